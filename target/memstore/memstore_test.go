package memstore_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/primeload/primeload/target/logistics"
	"github.com/primeload/primeload/target/memstore"
)

var now = time.Date(2026, 3, 15, 12, 0, 0, 0, time.UTC)

// TestConcurrentWrites hammers one store from many goroutines (run with
// -race) and checks that no write is lost.
func TestConcurrentWrites(t *testing.T) {
	ctx := context.Background()
	s := memstore.New(logistics.Generate(100, now, 1))
	const workers, each = 8, 50
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				at := now.Add(time.Duration(w*each+i) * time.Millisecond)
				g, err := s.Create(ctx, logistics.NewGoods{Customer: "c", Location: "l", Quantity: 1, Status: "pending"}, at)
				if err != nil {
					t.Error(err)
					return
				}
				if _, err := s.AddTracking(ctx, logistics.NewTracking{GoodsID: g.ID, Status: "in_transit", Location: "x"}, at); err != nil {
					t.Error(err)
				}
				if i%5 == 0 {
					if err := s.Delete(ctx, g.ID); err != nil {
						t.Error(err)
					}
				}
				s.List(ctx, logistics.ListQuery{Filter: logistics.Filter{Status: "in_transit"}, Limit: 20})
				s.Stats(ctx, now)
			}
		}()
	}
	wg.Wait()
	page, _ := s.List(ctx, logistics.ListQuery{Limit: 1})
	if want := 100 + workers*each - workers*each/5; page.Count != want {
		t.Errorf("count %d, want %d", page.Count, want)
	}
	st, _ := s.Stats(ctx, now)
	if st.TotalShipments != page.Count {
		t.Errorf("stats total %d, list count %d", st.TotalShipments, page.Count)
	}
}

func TestTrackingIsBounded(t *testing.T) {
	ctx := context.Background()
	s := memstore.New(logistics.Generate(3, now, 1))
	for i := range 3 * logistics.MaxTrackingPerGoods {
		if _, err := s.AddTracking(ctx, logistics.NewTracking{GoodsID: 2, Status: "in_transit", Location: "x"}, now.Add(time.Duration(i)*time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	d, err := s.Get(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.TrackingUpdates) != logistics.MaxTrackingPerGoods || !d.TrackingUpdates[0].CreatedAt.Equal(now.Add(time.Duration(3*logistics.MaxTrackingPerGoods-1)*time.Second)) {
		t.Errorf("%d updates, newest %v: want the newest %d", len(d.TrackingUpdates), d.TrackingUpdates[0].CreatedAt, logistics.MaxTrackingPerGoods)
	}
	if _, err := s.AddTracking(ctx, logistics.NewTracking{GoodsID: 99}, now); !errors.Is(err, logistics.ErrNotFound) {
		t.Errorf("tracking for unknown goods: %v, want ErrNotFound", err)
	}
}

func TestCreateKeepsNewestFirst(t *testing.T) {
	ctx := context.Background()
	s := memstore.New(logistics.Generate(10, now, 1))
	older, _ := s.Create(ctx, logistics.NewGoods{Customer: "old"}, now.AddDate(0, -6, 0)) // back-dated: lands mid-list
	newer, _ := s.Create(ctx, logistics.NewGoods{Customer: "new"}, now.Add(time.Hour))
	page, _ := s.List(ctx, logistics.ListQuery{Limit: 20})
	if page.Count != 12 || page.Results[0].ID != newer.ID {
		t.Fatalf("first %d of %d, want %d first", page.Results[0].ID, page.Count, newer.ID)
	}
	for i := 1; i < len(page.Results); i++ {
		if page.Results[i].CreatedAt.After(page.Results[i-1].CreatedAt) {
			t.Errorf("not newest first at %d", i)
		}
	}
	if err := s.Delete(ctx, older.ID); err != nil {
		t.Errorf("delete back-dated goods: %v", err)
	}
	if _, err := s.Get(ctx, older.ID); !errors.Is(err, logistics.ErrNotFound) {
		t.Errorf("get after delete: %v", err)
	}
}
