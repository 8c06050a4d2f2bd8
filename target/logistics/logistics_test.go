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

func TestFill(t *testing.T) {
	months := logistics.FillMonths(now, []logistics.MonthVolume{{Month: "2026-03", Count: 2, CBM: 1.00049}, {Month: "2025-04", Count: 1}})
	if len(months) != 12 || months[0].Month != "2025-04" || months[0].Count != 1 || months[11] != (logistics.MonthVolume{Month: "2026-03", Count: 2, CBM: 1}) {
		t.Errorf("months = %+v", months)
	}
	days := logistics.FillDays(now, []logistics.DayVolume{{Date: "2026-02-14", Count: 3}, {Date: "2026-02-13", Count: 9}})
	if len(days) != 30 || days[0] != (logistics.DayVolume{Date: "2026-02-14", Count: 3}) || days[29].Date != "2026-03-15" {
		t.Errorf("days = %+v", days)
	}
	top := []logistics.CustomerTotal{{"b", 2, 1}, {"a", 2, 1}, {"c", 3, 0}, {"d", 2, 5}}
	logistics.SortTopCustomers(top)
	want := []string{"c", "d", "a", "b"}
	for i, c := range top {
		if c.Customer != want[i] {
			t.Errorf("top customers order %+v, want %v", top, want)
			break
		}
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
