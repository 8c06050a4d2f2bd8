package cache

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis is a cache in a Redis server. go-redis redials on its own, so a
// Redis that comes back is used again without a restart.
type Redis struct {
	client *redis.Client
	prefix string
}

// Short timeouts: a cache that answers slowly is worse than none, and the
// target falls back to its store on any cache error.
const (
	redisDialTimeout = 500 * time.Millisecond
	redisIOTimeout   = 250 * time.Millisecond
)

// NewRedis connects to the Redis at url (redis://host:port/db). Every key is
// prefixed with prefix, so several targets or tests can share one database.
func NewRedis(url, prefix string) (*Redis, error) {
	opts, err := redis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("parse redis url: %w", err)
	}
	opts.DialTimeout = redisDialTimeout
	opts.ReadTimeout = redisIOTimeout
	opts.WriteTimeout = redisIOTimeout
	opts.MaxRetries = 1
	return &Redis{client: redis.NewClient(opts), prefix: prefix}, nil
}

// Ping checks that Redis answers.
func (r *Redis) Ping(ctx context.Context) error {
	if err := r.client.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("ping redis: %w", err)
	}
	return nil
}

// Close releases the connections.
func (r *Redis) Close() error { return r.client.Close() }

// Get returns the value for key or ErrMiss.
func (r *Redis) Get(ctx context.Context, key string) ([]byte, error) {
	val, err := r.client.Get(ctx, r.prefix+key).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, ErrMiss
	}
	if err != nil {
		return nil, fmt.Errorf("redis get: %w", err)
	}
	return val, nil
}

// Set stores val for ttl.
func (r *Redis) Set(ctx context.Context, key string, val []byte, ttl time.Duration) error {
	if err := r.client.Set(ctx, r.prefix+key, val, ttl).Err(); err != nil {
		return fmt.Errorf("redis set: %w", err)
	}
	return nil
}

// Generation returns the current generation of family; 0 when never bumped
// (or when Redis restarted empty, which also emptied every cached value).
func (r *Redis) Generation(ctx context.Context, family string) (int64, error) {
	n, err := r.client.Get(ctx, r.prefix+"gen:"+family).Int64()
	if errors.Is(err, redis.Nil) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("redis generation %s: %w", family, err)
	}
	return n, nil
}

// Bump moves family to a new generation with one INCR, instead of scanning
// for its keys: old keys are never read again and expire by their TTL.
func (r *Redis) Bump(ctx context.Context, family string) error {
	if err := r.client.Incr(ctx, r.prefix+"gen:"+family).Err(); err != nil {
		return fmt.Errorf("redis bump %s: %w", family, err)
	}
	return nil
}
