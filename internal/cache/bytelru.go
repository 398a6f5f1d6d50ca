package cache

import (
	"container/list"
	"sync"
	"time"

	"github.com/seatable-graphql/seatable-graphql/upstream"
)

// byteLRU is the in-process store: least recently used entries go first once
// the estimated bytes exceed the bound; expired entries are dropped on read.
type byteLRU struct {
	max int64

	mu    sync.Mutex
	used  int64
	order *list.List // front = most recently used
	items map[string]*list.Element
}

type lruEntry struct {
	key     string
	list    *upstream.WorkspaceList
	size    int64
	expires time.Time
}

func newByteLRU(maxBytes int64) *byteLRU {
	return &byteLRU{max: maxBytes, order: list.New(), items: map[string]*list.Element{}}
}

func (c *byteLRU) get(key string, now time.Time) (*upstream.WorkspaceList, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[key]
	if !ok {
		return nil, false
	}
	e := el.Value.(*lruEntry)
	if !now.Before(e.expires) {
		c.drop(el)
		return nil, false
	}
	c.order.MoveToFront(el)
	return e.list, true
}

func (c *byteLRU) add(key string, l *upstream.WorkspaceList, size int64, expires time.Time) {
	if size > c.max {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[key]; ok {
		c.drop(el)
	}
	c.items[key] = c.order.PushFront(&lruEntry{key: key, list: l, size: size, expires: expires})
	c.used += size
	for c.used > c.max {
		c.drop(c.order.Back())
	}
}

func (c *byteLRU) remove(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[key]; ok {
		c.drop(el)
	}
}

// bytes returns the estimated size of what is stored.
func (c *byteLRU) bytes() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.used
}

func (c *byteLRU) drop(el *list.Element) {
	e := el.Value.(*lruEntry)
	c.order.Remove(el)
	delete(c.items, e.key)
	c.used -= e.size
}
