package logistics_test

import (
	"slices"
	"testing"
	"time"

	"github.com/primeload/primeload/target/logistics"
)

var now = time.Date(2026, 3, 15, 12, 0, 0, 0, time.UTC)

func TestGenerate(t *testing.T) {
	goods, updates := logistics.Generate(2000, now, 7)
	again, _ := logistics.Generate(2000, now, 7)
	if !slices.Equal(goods, again) {
		t.Error("same seed gave different data")
	}
	if len(goods) != 2000 {
		t.Fatalf("%d goods, want 2000", len(goods))
	}
	statuses := map[string]int{}
	yearAgo := now.AddDate(-1, 0, 0)
	for i, g := range goods {
		if g.ID != int64(i+1) || !logistics.ValidStatus(g.Status) || g.Customer == "" || g.Location == "" || g.Quantity < 1 {
			t.Fatalf("goods %d invalid: %+v", i, g)
		}
		if g.CreatedAt.Before(yearAgo.Add(-time.Hour)) || g.CreatedAt.After(now) || (i > 0 && g.CreatedAt.Before(goods[i-1].CreatedAt)) {
			t.Fatalf("goods %d created %v: want oldest first within the year before %v", i, g.CreatedAt, now)
		}
		statuses[g.Status]++
	}
	for _, s := range []string{"pending", "in_transit", "completed", "cancelled"} {
		if statuses[s] == 0 {
			t.Errorf("no %s goods in %v", s, statuses)
		}
	}
	for _, u := range updates {
		if u.GoodsID < 1 || u.GoodsID > 2000 || u.CreatedAt.After(now) {
			t.Fatalf("bad update %+v", u)
		}
	}
}

func TestBucket(t *testing.T) {
	bounds := logistics.MonthStarts(now)
	if len(bounds) != 12 || bounds[0] != time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC) || bounds[11] != time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC) {
		t.Fatalf("month starts %v", bounds)
	}
	tests := []struct {
		t    time.Time
		want int
	}{
		{time.Date(2025, 3, 31, 23, 59, 59, 0, time.UTC), 0},
		{time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC), 1},
		{time.Date(2025, 4, 30, 0, 0, 0, 0, time.UTC), 1},
		{time.Date(2025, 12, 31, 23, 0, 0, 0, time.UTC), 9},
		{time.Date(2026, 3, 15, 0, 0, 0, 0, time.UTC), 12},
		{time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), 12},
	}
	for _, tt := range tests {
		if got := logistics.Bucket(bounds, tt.t); got != tt.want {
			t.Errorf("Bucket(%v) = %d, want %d", tt.t, got, tt.want)
		}
	}
}

func TestStatsFrom(t *testing.T) {
	st := logistics.StatsFrom(now, []logistics.StatsGroup{
		{"pending", "b", 12, 2, 1.00049},
		{"completed", "a", 0, 5, 10},
		{"in_transit", "a", 1, 1, 0.5},
		{"completed", "c", 3, 2, 7},
		{"pending", "d", 12, 2, 7},
	})
	if st.TotalShipments != 12 || st.PendingShipments != 4 || st.InTransitShipments != 1 || st.CompletedShipments != 7 {
		t.Errorf("counts %+v", st)
	}
	if len(st.MonthlyVolume) != 12 || st.MonthlyVolume[0] != (logistics.MonthVolume{Month: "2025-04", Count: 1, CBM: 0.5}) ||
		st.MonthlyVolume[11] != (logistics.MonthVolume{Month: "2026-03", Count: 4, CBM: 8}) {
		t.Errorf("months %+v", st.MonthlyVolume)
	}
	want := []string{"a", "c", "d", "b"} // count, then volume, then name
	for i, c := range st.TopCustomers {
		if c.Customer != want[i] {
			t.Errorf("top customers %+v, want order %v", st.TopCustomers, want)
			break
		}
	}
	ch := logistics.ChartsFrom(now, map[int]int{0: 99, 1: 3, 30: 4}, map[string]int{"pending": 2})
	if len(ch.DailyVolumes) != 30 || ch.DailyVolumes[0] != (logistics.DayVolume{Date: "2026-02-14", Count: 3}) ||
		ch.DailyVolumes[29] != (logistics.DayVolume{Date: "2026-03-15", Count: 4}) || ch.StatusBreakdown[0].Count != 2 {
		t.Errorf("charts %+v", ch)
	}
}

func TestFilterMatch(t *testing.T) {
	g := logistics.Goods{Status: "pending", Customer: "A", Location: "Yiwu market", CreatedAt: now}
	tests := []struct {
		name string
		f    logistics.Filter
		want bool
	}{
		{"empty", logistics.Filter{}, true},
		{"status", logistics.Filter{Status: "pending"}, true},
		{"other status", logistics.Filter{Status: "completed"}, false},
		{"customer and location", logistics.Filter{Customer: "A", Location: "Yiwu market"}, true},
		{"from inclusive", logistics.Filter{From: now}, true},
		{"until exclusive", logistics.Filter{Until: now}, false},
		{"window", logistics.Filter{From: now.Add(-time.Hour), Until: now.Add(time.Hour)}, true},
	}
	for _, tt := range tests {
		if got := tt.f.Match(&g); got != tt.want {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
		}
	}
}
