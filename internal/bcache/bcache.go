// Package bcache is a cache bounded by a byte budget: what the public
// read path keeps in memory (labels, rendered pages, listings) never grows
// with the registry, however many different entries are asked for.
package bcache

import "sync"

// Cache maps keys to values whose cost (bytes) the caller states. When an
// entry would take the total over the budget, entries are evicted in the
// map's (random) order until it fits: cheap, and without a recency list
// to update on every hit, which would serialise readers.
type Cache[V any] struct {
	mu      sync.RWMutex
	budget  int
	used    int
	entries map[string]entry[V]
}

type entry[V any] struct {
	v    V
	cost int
}

// New makes a cache holding at most budget bytes.
func New[V any](budget int) *Cache[V] {
	return &Cache[V]{budget: budget, entries: map[string]entry[V]{}}
}

// Get returns the value kept for key.
func (c *Cache[V]) Get(key string) (V, bool) {
	c.mu.RLock()
	e, ok := c.entries[key]
	c.mu.RUnlock()
	return e.v, ok
}

// Put keeps v under key at the given cost (its bytes, roughly); an entry
// costing more than a quarter of the budget is not kept.
func (c *Cache[V]) Put(key string, v V, cost int) {
	cost += len(key) + 64 // the map's own share
	if cost*4 > c.budget {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.entries[key]; ok {
		c.used -= old.cost
		delete(c.entries, key)
	}
	for k, e := range c.entries {
		if c.used+cost <= c.budget {
			break
		}
		c.used -= e.cost
		delete(c.entries, k)
	}
	c.entries[key] = entry[V]{v, cost}
	c.used += cost
}

// Delete forgets the given keys.
func (c *Cache[V]) Delete(keys ...string) {
	c.mu.Lock()
	for _, k := range keys {
		if e, ok := c.entries[k]; ok {
			c.used -= e.cost
			delete(c.entries, k)
		}
	}
	c.mu.Unlock()
}

// DeleteIf forgets every entry drop says to.
func (c *Cache[V]) DeleteIf(drop func(key string, v V) bool) {
	c.mu.Lock()
	for k, e := range c.entries {
		if drop(k, e.v) {
			c.used -= e.cost
			delete(c.entries, k)
		}
	}
	c.mu.Unlock()
}

// Clear forgets everything.
func (c *Cache[V]) Clear() {
	c.mu.Lock()
	c.entries, c.used = map[string]entry[V]{}, 0
	c.mu.Unlock()
}

// Used is the bytes kept now; Len the number of entries.
func (c *Cache[V]) Used() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.used
}

// Len is the number of entries kept.
func (c *Cache[V]) Len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.entries)
}
