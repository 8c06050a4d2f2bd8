package logistics

import (
	"cmp"
	"math"
	"slices"
	"strings"
	"time"
)

// FillMonths returns the twelve months of StatsWindow(now) in order, taking
// counts from got and zero for months got lacks, so every store answers the
// same shape whatever its query returned.
func FillMonths(now time.Time, got []MonthVolume) []MonthVolume {
	byMonth := make(map[string]MonthVolume, len(got))
	for _, m := range got {
		byMonth[m.Month] = m
	}
	out := make([]MonthVolume, 12)
	start := StatsWindow(now)
	for i := range out {
		key := start.AddDate(0, i, 0).Format("2006-01")
		m := byMonth[key]
		out[i] = MonthVolume{Month: key, Count: m.Count, CBM: Round3(m.CBM)}
	}
	return out
}

// FillDays returns the ChartDays days of ChartWindow(now) in order, zero
// where got has no entry.
func FillDays(now time.Time, got []DayVolume) []DayVolume {
	byDay := make(map[string]int, len(got))
	for _, d := range got {
		byDay[d.Date] = d.Count
	}
	out := make([]DayVolume, ChartDays)
	start := ChartWindow(now)
	for i := range out {
		key := start.AddDate(0, 0, i).Format("2006-01-02")
		out[i] = DayVolume{Date: key, Count: byDay[key]}
	}
	return out
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
