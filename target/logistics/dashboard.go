package logistics

import (
	"cmp"
	"math"
	"slices"
	"sort"
	"strings"
	"time"
)

// MonthStarts returns the first instant (UTC) of each of the twelve months
// that Stats covers at now, the current month last.
func MonthStarts(now time.Time) []time.Time {
	start := StatsWindow(now)
	out := make([]time.Time, 12)
	for i := range out {
		out[i] = start.AddDate(0, i, 0)
	}
	return out
}

// DayStarts returns midnight (UTC) of each of the ChartDays days that Charts
// covers at now, today last.
func DayStarts(now time.Time) []time.Time {
	start := ChartWindow(now)
	out := make([]time.Time, ChartDays)
	for i := range out {
		out[i] = start.AddDate(0, 0, i)
	}
	return out
}

// Bucket places t among ascending bounds as PostgreSQL's width_bucket does
// with an array: 0 before bounds[0], i when bounds[i-1] <= t < bounds[i],
// len(bounds) from the last bound on. Stores bucket rows this way instead of
// formatting a date per row, which dominated the cost of the dashboard.
func Bucket(bounds []time.Time, t time.Time) int {
	return sort.Search(len(bounds), func(i int) bool { return t.Before(bounds[i]) })
}

// StatsGroup is the goods of one status, customer and month bucket (as
// Bucket over MonthStarts): the one-pass aggregate both stores compute.
type StatsGroup struct {
	Status   string
	Customer string
	Month    int
	Count    int
	CBM      float64
}

// StatsFrom folds groups into the dashboard summary at now.
func StatsFrom(now time.Time, groups []StatsGroup) Stats {
	starts := MonthStarts(now)
	months := make([]MonthVolume, len(starts))
	for i, s := range starts {
		months[i].Month = s.Format("2006-01")
	}
	type total struct {
		count int
		cbm   float64
	}
	byCustomer := map[string]total{}
	var st Stats
	for _, g := range groups {
		st.TotalShipments += g.Count
		switch g.Status {
		case StatusPending:
			st.PendingShipments += g.Count
		case StatusInTransit:
			st.InTransitShipments += g.Count
		case StatusCompleted:
			st.CompletedShipments += g.Count
		}
		if g.Month > 0 {
			months[g.Month-1].Count += g.Count
			months[g.Month-1].CBM += g.CBM
		}
		t := byCustomer[g.Customer]
		byCustomer[g.Customer] = total{t.count + g.Count, t.cbm + g.CBM}
	}
	for i := range months {
		months[i].CBM = Round3(months[i].CBM)
	}
	top := make([]CustomerTotal, 0, len(byCustomer))
	for c, t := range byCustomer {
		top = append(top, CustomerTotal{Customer: c, Count: t.count, CBM: Round3(t.cbm)})
	}
	SortTopCustomers(top)
	st.MonthlyVolume = months
	st.TopCustomers = top[:min(len(top), TopCustomers)]
	return st
}

// ChartsFrom builds the charts at now from counts per day bucket (as Bucket
// over DayStarts; bucket 0, before the window, is ignored) and per status.
func ChartsFrom(now time.Time, dayBuckets map[int]int, byStatus map[string]int) Charts {
	starts := DayStarts(now)
	days := make([]DayVolume, len(starts))
	for i, s := range starts {
		days[i] = DayVolume{Date: s.Format(time.DateOnly), Count: dayBuckets[i+1]}
	}
	return Charts{DailyVolumes: days, StatusBreakdown: FillStatuses(byStatus)}
}

// FillStatuses returns a count for every status in Statuses order.
func FillStatuses(counts map[string]int) []StatusCount {
	out := make([]StatusCount, len(Statuses))
	for i, s := range Statuses {
		out[i] = StatusCount{Status: s, Count: counts[s]}
	}
	return out
}

// Round3 rounds to three decimals (litres of a cubic metre), so float sums
// added in a different order by different stores print the same.
func Round3(v float64) float64 { return math.Round(v*1000) / 1000 }

// SortTopCustomers orders by count, then volume, then name, so ties come out
// the same from every store.
func SortTopCustomers(top []CustomerTotal) {
	slices.SortFunc(top, func(a, b CustomerTotal) int {
		if a.Count != b.Count {
			return b.Count - a.Count
		}
		if a.CBM != b.CBM {
			return cmp.Compare(b.CBM, a.CBM)
		}
		return strings.Compare(a.Customer, b.Customer)
	})
}
