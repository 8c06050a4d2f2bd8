// Package pgstore keeps PRIMEPRE's goods in PostgreSQL through a bounded
// pgx pool, with embedded migrations and COPY for bulk seeding. Every query
// is parameterised.
package pgstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/primeload/primeload/target/logistics"
)

// Config configures Open.
type Config struct {
	URL string // postgres://user@host:port/db?sslmode=disable
	// Schema, when set, is created if missing and used for every table, so
	// tests sharing one database do not see each other.
	Schema   string
	MaxConns int32 // pool size; 0 means pgx's default
	// ConnectTimeout bounds each dial, so a database that is down fails
	// requests fast; 0 means 2s.
	ConnectTimeout time.Duration
}

// Store is a PostgreSQL goods store, safe for concurrent use.
type Store struct {
	pool *pgxpool.Pool
}

// Open connects, applies the embedded migrations and returns the store.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	pc, err := pgxpool.ParseConfig(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("parse database url: %w", err)
	}
	if cfg.MaxConns > 0 {
		pc.MaxConns = cfg.MaxConns
	}
	pc.ConnConfig.ConnectTimeout = cfg.ConnectTimeout
	if pc.ConnConfig.ConnectTimeout <= 0 {
		pc.ConnConfig.ConnectTimeout = 2 * time.Second
	}
	if cfg.Schema != "" {
		if err := createSchema(ctx, pc.ConnConfig.Copy(), cfg.Schema); err != nil {
			return nil, err
		}
		pc.ConnConfig.RuntimeParams["search_path"] = pgx.Identifier{cfg.Schema}.Sanitize()
	}
	conn, err := pgx.ConnectConfig(ctx, pc.ConnConfig.Copy())
	if err != nil {
		return nil, fmt.Errorf("connect to database: %w", err)
	}
	err = migrate(ctx, conn)
	conn.Close(ctx)
	if err != nil {
		return nil, err
	}
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("open pool: %w", err)
	}
	return &Store{pool: pool}, nil
}

func createSchema(ctx context.Context, cc *pgx.ConnConfig, schema string) error {
	conn, err := pgx.ConnectConfig(ctx, cc)
	if err != nil {
		return fmt.Errorf("connect to database: %w", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+pgx.Identifier{schema}.Sanitize()); err != nil {
		return fmt.Errorf("create schema %s: %w", schema, err)
	}
	return nil
}

// Close waits for borrowed connections and closes the pool.
func (s *Store) Close() { s.pool.Close() }

// Pool exposes the pool to tests and benchmarks in this module (EXPLAIN,
// pg_terminate_backend).
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// wrap translates pgx's sentinels into the store contract: no rows is
// logistics.ErrNotFound, and anything that means the database could not be
// reached (refused, reset, timed out, shutting down) is logistics.ErrUnavailable.
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("%s: %w", op, logistics.ErrNotFound)
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code[:2] {
		case "08", "53", "57": // connection exception, insufficient resources, operator intervention
			return fmt.Errorf("%s: %w: %w", op, logistics.ErrUnavailable, err)
		}
		return fmt.Errorf("%s: %w", op, err)
	}
	if isConnectionError(err) {
		return fmt.Errorf("%s: %w: %w", op, logistics.ErrUnavailable, err)
	}
	return fmt.Errorf("%s: %w", op, err)
}

// isConnectionError reports failures to reach or keep a connection, as
// opposed to errors in what was asked.
func isConnectionError(err error) bool {
	var netErr net.Error
	var connectErr *pgconn.ConnectError
	switch {
	case errors.As(err, &netErr), errors.As(err, &connectErr), pgconn.Timeout(err),
		errors.Is(err, context.DeadlineExceeded), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, net.ErrClosed), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.ECONNREFUSED):
		return true
	}
	// pgx reports these two with plain errors.New, no sentinel to match.
	msg := err.Error()
	return strings.Contains(msg, "closed pool") || strings.Contains(msg, "conn closed")
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	return wrap("ping database", s.pool.Ping(ctx))
}

const goodsColumns = `id, shipping_mark, customer, description, quantity, cbm, weight_kg, location, status, created_at, updated_at`

func scanGoods(row pgx.Row) (logistics.Goods, error) {
	var g logistics.Goods
	err := row.Scan(&g.ID, &g.ShippingMark, &g.Customer, &g.Description, &g.Quantity, &g.CBM, &g.WeightKG,
		&g.Location, &g.Status, &g.CreatedAt, &g.UpdatedAt)
	g.CreatedAt, g.UpdatedAt = g.CreatedAt.UTC(), g.UpdatedAt.UTC()
	return g, err
}

// where builds a WHERE clause with a placeholder per filter that is set;
// only the clause's shape varies, values always travel as parameters.
func where(f logistics.Filter) (string, []any) {
	var conds []string
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		conds = append(conds, fmt.Sprintf(cond, len(args)))
	}
	if f.Status != "" {
		add("status = $%d", f.Status)
	}
	if f.Customer != "" {
		add("customer = $%d", f.Customer)
	}
	if f.Location != "" {
		add("location = $%d", f.Location)
	}
	if !f.From.IsZero() {
		add("created_at >= $%d", f.From)
	}
	if !f.Until.IsZero() {
		add("created_at < $%d", f.Until)
	}
	if len(conds) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

// List returns one page of goods matching q, newest first, and the total
// count, in one round trip.
func (s *Store) List(ctx context.Context, q logistics.ListQuery) (logistics.Page, error) {
	cond, args := where(q.Filter)
	n := len(args)
	b := &pgx.Batch{}
	b.Queue(`SELECT count(*) FROM goods_received`+cond, args...)
	b.Queue(`SELECT `+goodsColumns+` FROM goods_received`+cond+
		` ORDER BY created_at DESC, id DESC LIMIT $`+strconv.Itoa(n+1)+` OFFSET $`+strconv.Itoa(n+2),
		append(args[:n:n], q.Limit, q.Offset)...)
	br := s.pool.SendBatch(ctx, b)
	defer br.Close()
	page := logistics.Page{Results: make([]logistics.Goods, 0, q.Limit)}
	if err := br.QueryRow().Scan(&page.Count); err != nil {
		return page, wrap("count goods", err)
	}
	rows, err := br.Query()
	if err != nil {
		return page, wrap("list goods", err)
	}
	for rows.Next() {
		g, err := scanGoods(rows)
		if err != nil {
			rows.Close()
			return page, wrap("list goods", err)
		}
		page.Results = append(page.Results, g)
	}
	return page, wrap("list goods", rows.Err())
}

// Get returns goods id with its newest tracking updates first.
func (s *Store) Get(ctx context.Context, id int64) (logistics.GoodsDetail, error) {
	b := &pgx.Batch{}
	b.Queue(`SELECT `+goodsColumns+` FROM goods_received WHERE id = $1`, id)
	b.Queue(`SELECT id, goods_id, status, location, notes, created_at FROM tracking_updates
		WHERE goods_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2`, id, logistics.MaxTrackingPerGoods)
	br := s.pool.SendBatch(ctx, b)
	defer br.Close()
	var d logistics.GoodsDetail
	var err error
	if d.Goods, err = scanGoods(br.QueryRow()); err != nil {
		return d, wrap(fmt.Sprintf("get goods %d", id), err)
	}
	rows, err := br.Query()
	if err != nil {
		return d, wrap("get tracking updates", err)
	}
	d.TrackingUpdates, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (logistics.TrackingUpdate, error) {
		var u logistics.TrackingUpdate
		err := row.Scan(&u.ID, &u.GoodsID, &u.Status, &u.Location, &u.Notes, &u.CreatedAt)
		u.CreatedAt = u.CreatedAt.UTC()
		return u, err
	})
	return d, wrap("get tracking updates", err)
}

// Create stores new goods created at at.
func (s *Store) Create(ctx context.Context, n logistics.NewGoods, at time.Time) (logistics.Goods, error) {
	row := s.pool.QueryRow(ctx, `INSERT INTO goods_received
		(shipping_mark, customer, description, quantity, cbm, weight_kg, location, status, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING `+goodsColumns,
		n.ShippingMark, n.Customer, n.Description, n.Quantity, n.CBM, n.WeightKG, n.Location, n.Status, at)
	g, err := scanGoods(row)
	return g, wrap("create goods", err)
}

// Update applies p to goods id at time at.
func (s *Store) Update(ctx context.Context, id int64, p logistics.GoodsPatch, at time.Time) (logistics.Goods, error) {
	args := []any{id, at}
	sets := []string{"updated_at = $2"}
	for _, f := range []struct {
		col string
		v   any
		set bool
	}{
		{"customer", p.Customer, p.Customer != nil}, {"description", p.Description, p.Description != nil},
		{"quantity", p.Quantity, p.Quantity != nil}, {"cbm", p.CBM, p.CBM != nil},
		{"weight_kg", p.WeightKG, p.WeightKG != nil}, {"location", p.Location, p.Location != nil},
		{"status", p.Status, p.Status != nil},
	} {
		if f.set {
			args = append(args, f.v)
			sets = append(sets, f.col+" = $"+strconv.Itoa(len(args)))
		}
	}
	row := s.pool.QueryRow(ctx, `UPDATE goods_received SET `+strings.Join(sets, ", ")+
		` WHERE id = $1 RETURNING `+goodsColumns, args...)
	g, err := scanGoods(row)
	return g, wrap(fmt.Sprintf("update goods %d", id), err)
}

// Delete removes goods id and, by cascade, its tracking updates.
func (s *Store) Delete(ctx context.Context, id int64) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM goods_received WHERE id = $1`, id)
	if err != nil {
		return wrap(fmt.Sprintf("delete goods %d", id), err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("delete goods %d: %w", id, logistics.ErrNotFound)
	}
	return nil
}

// AddTracking records an update and moves the goods to its status and
// location in one statement, so the two never disagree.
func (s *Store) AddTracking(ctx context.Context, n logistics.NewTracking, at time.Time) (logistics.TrackingUpdate, error) {
	u := logistics.TrackingUpdate{GoodsID: n.GoodsID, Status: n.Status, Location: n.Location, Notes: n.Notes, CreatedAt: at.UTC()}
	err := s.pool.QueryRow(ctx, `WITH g AS (
			UPDATE goods_received SET status = $2, location = $3, updated_at = $5 WHERE id = $1 RETURNING id)
		INSERT INTO tracking_updates (goods_id, status, location, notes, created_at)
		SELECT id, $2, $3, $4, $5 FROM g RETURNING id`,
		n.GoodsID, n.Status, n.Location, n.Notes, at).Scan(&u.ID)
	return u, wrap(fmt.Sprintf("add tracking update to goods %d", n.GoodsID), err)
}

// statsSQL aggregates the whole dashboard in one pass over the table:
// goods per status, customer and month bucket ($1 holds the month starts;
// width_bucket is a binary search, far cheaper per row than formatting a
// date). The few hundred groups are folded in Go.
const statsSQL = `SELECT status, customer, width_bucket(created_at, $1::timestamptz[]), count(*), sum(cbm)
FROM goods_received GROUP BY 1, 2, 3`

// Stats computes the dashboard summary at now.
func (s *Store) Stats(ctx context.Context, now time.Time) (logistics.Stats, error) {
	rows, err := s.pool.Query(ctx, statsSQL, logistics.MonthStarts(now))
	if err != nil {
		return logistics.Stats{}, wrap("dashboard stats", err)
	}
	groups, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (logistics.StatsGroup, error) {
		var g logistics.StatsGroup
		return g, row.Scan(&g.Status, &g.Customer, &g.Month, &g.Count, &g.CBM)
	})
	if err != nil {
		return logistics.Stats{}, wrap("dashboard stats", err)
	}
	return logistics.StatsFrom(now, groups), nil
}

// StatsSQL returns the stats statement and its arguments at now, for
// EXPLAIN ANALYZE in benchmarks.
func StatsSQL(now time.Time) (string, []any) {
	return statsSQL, []any{logistics.MonthStarts(now)}
}

// Charts computes the dashboard charts at now in one round trip: daily
// counts through the created_at index, the status breakdown from the status
// index alone.
func (s *Store) Charts(ctx context.Context, now time.Time) (logistics.Charts, error) {
	days := logistics.DayStarts(now)
	b := &pgx.Batch{}
	b.Queue(`SELECT width_bucket(created_at, $1::timestamptz[]), count(*) FROM goods_received
		WHERE created_at >= $2 GROUP BY 1`, days, days[0])
	b.Queue(`SELECT status, count(*) FROM goods_received GROUP BY status`)
	br := s.pool.SendBatch(ctx, b)
	defer br.Close()
	var bucket, n int
	byDay := map[int]int{}
	rows, err := br.Query()
	if err == nil {
		_, err = pgx.ForEachRow(rows, []any{&bucket, &n}, func() error { byDay[bucket] = n; return nil })
	}
	if err != nil {
		return logistics.Charts{}, wrap("daily volumes", err)
	}
	var status string
	byStatus := map[string]int{}
	rows, err = br.Query()
	if err == nil {
		_, err = pgx.ForEachRow(rows, []any{&status, &n}, func() error { byStatus[status] = n; return nil })
	}
	if err != nil {
		return logistics.Charts{}, wrap("status breakdown", err)
	}
	return logistics.ChartsFrom(now, byDay, byStatus), nil
}

// Seed loads n generated goods (and their tracking updates) with COPY when
// the table is empty, so restarting a target does not duplicate its data.
// It returns how many goods it loaded.
func (s *Store) Seed(ctx context.Context, n int, now time.Time) (int, error) {
	var exists bool
	if err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM goods_received)`).Scan(&exists); err != nil {
		return 0, wrap("check for seed data", err)
	}
	if exists || n <= 0 {
		return 0, nil
	}
	goods, updates := logistics.Generate(n, now, 1)
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		_, err := tx.CopyFrom(ctx, pgx.Identifier{"goods_received"},
			strings.Split(strings.ReplaceAll(goodsColumns, " ", ""), ","),
			pgx.CopyFromSlice(len(goods), func(i int) ([]any, error) {
				g := &goods[i]
				return []any{g.ID, g.ShippingMark, g.Customer, g.Description, g.Quantity, g.CBM, g.WeightKG,
					g.Location, g.Status, g.CreatedAt, g.UpdatedAt}, nil
			}))
		if err != nil {
			return fmt.Errorf("copy goods: %w", err)
		}
		_, err = tx.CopyFrom(ctx, pgx.Identifier{"tracking_updates"},
			[]string{"id", "goods_id", "status", "location", "notes", "created_at"},
			pgx.CopyFromSlice(len(updates), func(i int) ([]any, error) {
				u := &updates[i]
				return []any{u.ID, u.GoodsID, u.Status, u.Location, u.Notes, u.CreatedAt}, nil
			}))
		if err != nil {
			return fmt.Errorf("copy tracking updates: %w", err)
		}
		// COPY gave explicit ids: move the identity sequences past them.
		_, err = tx.Exec(ctx, `SELECT setval(pg_get_serial_sequence('goods_received', 'id'), (SELECT max(id) FROM goods_received));
			SELECT setval(pg_get_serial_sequence('tracking_updates', 'id'), (SELECT max(id) FROM tracking_updates))`)
		return err
	})
	if err != nil {
		return 0, wrap("seed goods", err)
	}
	// Fresh statistics, or the planner guesses on an empty table's numbers.
	if _, err := s.pool.Exec(ctx, `ANALYZE goods_received; ANALYZE tracking_updates`); err != nil {
		return 0, wrap("analyze seeded tables", err)
	}
	return n, nil
}
