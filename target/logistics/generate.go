package logistics

import (
	"fmt"
	"math/rand/v2"
	"time"
)

// Realistic names for the synthetic data: the customers and places of a
// China-to-West-Africa consolidation business like PRIMEPRE.
var (
	customers = []string{
		"Kwame Mensah Trading", "Ama Serwaa Imports", "Accra Electronics Ltd", "Kumasi Textiles",
		"Golden Coast Hardware", "Osei & Sons Enterprise", "Tamale Agro Supplies", "Takoradi Motors",
		"Adwoa Beauty Hub", "Lagos Phone Mart", "Ebo Furniture Works", "Nana Yaa Fashion",
		"Volta Solar Solutions", "Cape Coast Pharmacy", "Kofi Annor Building Materials", "Ashanti Kitchenware",
	}
	locations = []string{
		"Guangzhou warehouse", "Yiwu market", "Shenzhen", "Foshan", "Shanghai port",
		"Ningbo port", "At sea", "Tema port", "Accra warehouse", "Kumasi",
	}
	descriptions = []string{
		"Mobile phone accessories", "Cotton fabric rolls", "LED bulbs", "Kitchen utensils",
		"Solar panels", "Office chairs", "Motorbike spare parts", "Hair extensions",
		"Plastic buckets", "Ceramic tiles", "Laptop bags", "Water pumps",
	}
)

// statusPath is the route a consignment takes: its status and where it is.
var statusPath = []struct{ status, location string }{
	{StatusPending, "Guangzhou warehouse"},
	{StatusReceived, "Guangzhou warehouse"},
	{StatusInTransit, "Shanghai port"},
	{StatusArrived, "Tema port"},
	{StatusCompleted, "Accra warehouse"},
}

// Generate makes n synthetic goods with ids 1..n created over the year before
// now, and their tracking updates (ids from 1), deterministically from seed.
// Goods come oldest first.
func Generate(n int, now time.Time, seed uint64) ([]Goods, []TrackingUpdate) {
	r := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	year := 365 * 24 * time.Hour
	goods := make([]Goods, n)
	var updates []TrackingUpdate
	for i := range goods {
		// Spread evenly over the year with jitter, so goods stay ordered by id.
		created := now.Add(-year + time.Duration(float64(year)*(float64(i)+r.Float64())/float64(n))).UTC().Truncate(time.Microsecond)
		step := pickStep(r, created, now)
		g := Goods{
			ID:           int64(i + 1),
			ShippingMark: fmt.Sprintf("PM-%s-%06d", created.Format("0601"), i+1),
			Customer:     customers[zipf(r, len(customers))],
			Description:  descriptions[r.IntN(len(descriptions))],
			Quantity:     1 + r.IntN(500),
			CBM:          Round3(0.05 + r.Float64()*12),
			WeightKG:     Round3(2 + r.Float64()*3000),
			Location:     statusPath[step].location,
			Status:       statusPath[step].status,
			CreatedAt:    created,
			UpdatedAt:    created,
		}
		if step < len(statusPath) && r.IntN(40) == 0 {
			g.Status = StatusCancelled
		}
		for s := 0; s <= step; s++ {
			at := created.Add(time.Duration(s) * 6 * 24 * time.Hour)
			if at.After(now) {
				at = now
			}
			updates = append(updates, TrackingUpdate{
				ID: int64(len(updates) + 1), GoodsID: g.ID,
				Status: statusPath[s].status, Location: statusPath[s].location,
				Notes: "Recorded by warehouse staff", CreatedAt: at,
			})
			g.UpdatedAt = at
		}
		if g.Status == StatusCancelled {
			updates[len(updates)-1].Status = StatusCancelled
		}
		goods[i] = g
	}
	return goods, updates
}

// pickStep places older goods further along the route, as in real life.
func pickStep(r *rand.Rand, created, now time.Time) int {
	ageDays := int(now.Sub(created).Hours() / 24)
	maxStep := min(ageDays/6, len(statusPath)-1)
	if ageDays > 45 {
		return len(statusPath) - 1 - r.IntN(2)*r.IntN(2) // mostly completed
	}
	return r.IntN(maxStep + 1)
}

// zipf picks an index with a long tail so "top customers" means something.
func zipf(r *rand.Rand, n int) int {
	for {
		i := int(r.ExpFloat64() * float64(n) / 4)
		if i < n {
			return i
		}
	}
}
