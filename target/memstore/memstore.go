// Package memstore keeps PRIMEPRE's goods in memory: the default store of
// the reference target, needing no set-up and safe for concurrent use.
package memstore

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/primeload/primeload/target/logistics"
)

// Store is an in-memory goods store. The zero value is not usable; use New.
type Store struct {
	mu        sync.RWMutex
	goods     []*logistics.Goods // oldest first by (created_at, id)
	byID      map[int64]*logistics.Goods
	tracking  map[int64][]logistics.TrackingUpdate // oldest first, at most MaxTrackingPerGoods
	nextGoods int64
	nextTrack int64
}

// New returns a store holding goods and updates (as from logistics.Generate).
func New(goods []logistics.Goods, updates []logistics.TrackingUpdate) *Store {
	s := &Store{
		goods:    make([]*logistics.Goods, len(goods)),
		byID:     make(map[int64]*logistics.Goods, len(goods)),
		tracking: make(map[int64][]logistics.TrackingUpdate, len(goods)),
	}
	for i := range goods {
		g := goods[i]
		s.goods[i] = &g
		s.byID[g.ID] = &g
		s.nextGoods = max(s.nextGoods, g.ID)
	}
	slices.SortFunc(s.goods, compareAge)
	for _, u := range updates {
		s.appendTracking(u)
		s.nextTrack = max(s.nextTrack, u.ID)
	}
	return s
}

func compareAge(a, b *logistics.Goods) int {
	if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
		return c
	}
	return int(a.ID - b.ID)
}

func (s *Store) appendTracking(u logistics.TrackingUpdate) {
	list := append(s.tracking[u.GoodsID], u)
	if len(list) > logistics.MaxTrackingPerGoods {
		// Keep memory bounded under long load tests that post updates forever.
		list = slices.Delete(list, 0, len(list)-logistics.MaxTrackingPerGoods)
	}
	s.tracking[u.GoodsID] = list
}

// Ping always succeeds: memory is always reachable.
func (s *Store) Ping(context.Context) error { return nil }

// List returns one page of goods matching q, newest first.
func (s *Store) List(_ context.Context, q logistics.ListQuery) (logistics.Page, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	page := logistics.Page{Results: make([]logistics.Goods, 0, q.Limit)}
	if q.Filter == (logistics.Filter{}) {
		// Unfiltered: the count is known and the page is a slice window.
		page.Count = len(s.goods)
		for i := len(s.goods) - 1 - q.Offset; i >= 0 && len(page.Results) < q.Limit; i-- {
			page.Results = append(page.Results, *s.goods[i])
		}
		return page, nil
	}
	for i := len(s.goods) - 1; i >= 0; i-- {
		g := s.goods[i]
		if !q.Match(g) {
			continue
		}
		if page.Count >= q.Offset && len(page.Results) < q.Limit {
			page.Results = append(page.Results, *g)
		}
		page.Count++
	}
	return page, nil
}

// Get returns goods id with its newest tracking updates first.
func (s *Store) Get(_ context.Context, id int64) (logistics.GoodsDetail, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	g, ok := s.byID[id]
	if !ok {
		return logistics.GoodsDetail{}, logistics.ErrNotFound
	}
	list := s.tracking[id]
	d := logistics.GoodsDetail{Goods: *g, TrackingUpdates: make([]logistics.TrackingUpdate, len(list))}
	for i, u := range list {
		d.TrackingUpdates[len(list)-1-i] = u
	}
	return d, nil
}

// Create stores new goods created at at.
func (s *Store) Create(_ context.Context, n logistics.NewGoods, at time.Time) (logistics.Goods, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextGoods++
	g := &logistics.Goods{
		ID: s.nextGoods, ShippingMark: n.ShippingMark, Customer: n.Customer, Description: n.Description,
		Quantity: n.Quantity, CBM: n.CBM, WeightKG: n.WeightKG, Location: n.Location, Status: n.Status,
		CreatedAt: at.UTC(), UpdatedAt: at.UTC(),
	}
	i, _ := slices.BinarySearchFunc(s.goods, g, compareAge)
	s.goods = slices.Insert(s.goods, i, g)
	s.byID[g.ID] = g
	return *g, nil
}

// Update applies p to goods id at time at.
func (s *Store) Update(_ context.Context, id int64, p logistics.GoodsPatch, at time.Time) (logistics.Goods, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, ok := s.byID[id]
	if !ok {
		return logistics.Goods{}, logistics.ErrNotFound
	}
	p.Apply(g)
	g.UpdatedAt = at.UTC()
	return *g, nil
}

// Delete removes goods id and its tracking updates.
func (s *Store) Delete(_ context.Context, id int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, ok := s.byID[id]
	if !ok {
		return logistics.ErrNotFound
	}
	if i, found := slices.BinarySearchFunc(s.goods, g, compareAge); found {
		s.goods = slices.Delete(s.goods, i, i+1)
	}
	delete(s.byID, id)
	delete(s.tracking, id)
	return nil
}

// AddTracking records an update at time at and moves the goods to its status
// and location.
func (s *Store) AddTracking(_ context.Context, n logistics.NewTracking, at time.Time) (logistics.TrackingUpdate, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, ok := s.byID[n.GoodsID]
	if !ok {
		return logistics.TrackingUpdate{}, logistics.ErrNotFound
	}
	s.nextTrack++
	u := logistics.TrackingUpdate{
		ID: s.nextTrack, GoodsID: n.GoodsID, Status: n.Status, Location: n.Location, Notes: n.Notes, CreatedAt: at.UTC(),
	}
	s.appendTracking(u)
	g.Status, g.Location, g.UpdatedAt = n.Status, n.Location, u.CreatedAt
	return u, nil
}

// Stats computes the dashboard summary at now in one pass.
func (s *Store) Stats(_ context.Context, now time.Time) (logistics.Stats, error) {
	type key struct {
		status, customer string
		month            int
	}
	bounds := logistics.MonthStarts(now)
	s.mu.RLock()
	groups := map[key]*logistics.StatsGroup{}
	for _, g := range s.goods {
		k := key{g.Status, g.Customer, logistics.Bucket(bounds, g.CreatedAt)}
		sg := groups[k]
		if sg == nil {
			sg = &logistics.StatsGroup{Status: k.status, Customer: k.customer, Month: k.month}
			groups[k] = sg
		}
		sg.Count++
		sg.CBM += g.CBM
	}
	s.mu.RUnlock()
	list := make([]logistics.StatsGroup, 0, len(groups))
	for _, g := range groups {
		list = append(list, *g)
	}
	return logistics.StatsFrom(now, list), nil
}

// Charts computes the dashboard charts at now.
func (s *Store) Charts(_ context.Context, now time.Time) (logistics.Charts, error) {
	bounds := logistics.DayStarts(now)
	byStatus := map[string]int{}
	days := map[int]int{}
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, g := range s.goods {
		byStatus[g.Status]++
		if !g.CreatedAt.Before(bounds[0]) {
			days[logistics.Bucket(bounds, g.CreatedAt)]++
		}
	}
	return logistics.ChartsFrom(now, days, byStatus), nil
}
