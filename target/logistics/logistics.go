// Package logistics is the PRIMEPRE domain: goods received at the China
// warehouse, their tracking updates, the queries the API asks of a store and
// the errors a store may answer with. It holds data only, no storage.
package logistics

import (
	"errors"
	"time"
)

// ErrNotFound is returned by stores when an id names no goods.
var ErrNotFound = errors.New("not found")

// Statuses a shipment moves through, in order.
const (
	StatusPending   = "pending"
	StatusReceived  = "received"
	StatusInTransit = "in_transit"
	StatusArrived   = "arrived"
	StatusCompleted = "completed"
	StatusCancelled = "cancelled"
)

// Statuses lists every valid status, in shipment order.
var Statuses = []string{StatusPending, StatusReceived, StatusInTransit, StatusArrived, StatusCompleted, StatusCancelled}

// ValidStatus reports whether s is one of Statuses.
func ValidStatus(s string) bool {
	for _, v := range Statuses {
		if s == v {
			return true
		}
	}
	return false
}

// MaxTrackingPerGoods bounds how many tracking updates a detail answer carries
// (the newest ones), so a long load test cannot grow one response without limit.
const MaxTrackingPerGoods = 50

// Goods is one consignment received at the warehouse.
type Goods struct {
	ID           int64     `json:"id"`
	ShippingMark string    `json:"shipping_mark"`
	Customer     string    `json:"customer"`
	Description  string    `json:"description"`
	Quantity     int       `json:"quantity"`
	CBM          float64   `json:"cbm"`
	WeightKG     float64   `json:"weight_kg"`
	Location     string    `json:"location"`
	Status       string    `json:"status"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// TrackingUpdate is one step in a shipment's journey.
type TrackingUpdate struct {
	ID        int64     `json:"id"`
	GoodsID   int64     `json:"goods_id"`
	Status    string    `json:"status"`
	Location  string    `json:"location"`
	Notes     string    `json:"notes"`
	CreatedAt time.Time `json:"created_at"`
}

// GoodsDetail is a goods record with its newest tracking updates first.
type GoodsDetail struct {
	Goods
	TrackingUpdates []TrackingUpdate `json:"tracking_updates"`
}

// Filter selects goods for a list. Zero fields select everything.
type Filter struct {
	Status   string
	Customer string
	Location string
	From     time.Time // created_at >= From when not zero
	Until    time.Time // created_at < Until when not zero
}

// Match reports whether g passes the filter.
func (f Filter) Match(g *Goods) bool {
	return (f.Status == "" || g.Status == f.Status) &&
		(f.Customer == "" || g.Customer == f.Customer) &&
		(f.Location == "" || g.Location == f.Location) &&
		(f.From.IsZero() || !g.CreatedAt.Before(f.From)) &&
		(f.Until.IsZero() || g.CreatedAt.Before(f.Until))
}

// ListQuery is a filtered page of goods, newest first (created_at, then id).
type ListQuery struct {
	Filter
	Offset int
	Limit  int
}

// Page is one page of a list and the total count matching the filter.
type Page struct {
	Count   int
	Results []Goods
}

// NewGoods is what a client supplies to create goods.
type NewGoods struct {
	ShippingMark string
	Customer     string
	Description  string
	Quantity     int
	CBM          float64
	WeightKG     float64
	Location     string
	Status       string
}

// GoodsPatch changes the fields that are not nil.
type GoodsPatch struct {
	Customer    *string
	Description *string
	Quantity    *int
	CBM         *float64
	WeightKG    *float64
	Location    *string
	Status      *string
}

// Apply writes the patch into g.
func (p GoodsPatch) Apply(g *Goods) {
	set(&g.Customer, p.Customer)
	set(&g.Description, p.Description)
	set(&g.Quantity, p.Quantity)
	set(&g.CBM, p.CBM)
	set(&g.WeightKG, p.WeightKG)
	set(&g.Location, p.Location)
	set(&g.Status, p.Status)
}

func set[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

// NewTracking is what a client supplies to record a tracking update.
type NewTracking struct {
	GoodsID  int64
	Status   string
	Location string
	Notes    string
}

// Stats is the dashboard summary.
type Stats struct {
	TotalShipments     int             `json:"total_shipments"`
	PendingShipments   int             `json:"pending_shipments"`
	InTransitShipments int             `json:"in_transit_shipments"`
	CompletedShipments int             `json:"completed_shipments"`
	MonthlyVolume      []MonthVolume   `json:"monthly_volume"`
	TopCustomers       []CustomerTotal `json:"top_customers"`
}

// MonthVolume is the goods received in one calendar month (UTC).
type MonthVolume struct {
	Month string  `json:"month"` // 2006-01
	Count int     `json:"count"`
	CBM   float64 `json:"cbm"`
}

// CustomerTotal is one of the customers with the most goods.
type CustomerTotal struct {
	Customer string  `json:"customer"`
	Count    int     `json:"count"`
	CBM      float64 `json:"cbm"`
}

// TopCustomers is how many customers Stats lists.
const TopCustomers = 5

// Charts is the dashboard chart data.
type Charts struct {
	DailyVolumes    []DayVolume   `json:"daily_volumes"`
	StatusBreakdown []StatusCount `json:"status_breakdown"`
}

// DayVolume is the goods received on one day (UTC).
type DayVolume struct {
	Date  string `json:"date"` // 2006-01-02
	Count int    `json:"count"`
}

// StatusCount is how many goods have one status.
type StatusCount struct {
	Status string `json:"status"`
	Count  int    `json:"count"`
}

// ChartDays is how many days of daily volumes Charts covers, today included.
const ChartDays = 30

// ChartWindow returns the first day (UTC midnight) covered by charts at now.
func ChartWindow(now time.Time) time.Time {
	d := now.UTC().Truncate(24 * time.Hour)
	return d.AddDate(0, 0, -(ChartDays - 1))
}

// StatsWindow returns the first month (UTC) covered by the monthly volume at now:
// twelve months including the current one.
func StatsWindow(now time.Time) time.Time {
	n := now.UTC()
	return time.Date(n.Year(), n.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, -11, 0)
}

// ErrUnavailable wraps failures to reach a store's backend (connection
// refused, reset, timed out), which the API answers with 503.
var ErrUnavailable = errors.New("store unavailable")
