package lru

import (
	"testing"
	"time"
)

func (c *Cache[V]) has(key string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.items[key]
	return ok
}

func TestBoundedByBytesLeastRecentlyUsedFirst(t *testing.T) {
	c := New[string](300, 0)
	c.Add("a", "A", 100, time.Time{})
	c.Add("b", "B", 100, time.Time{})
	c.Add("c", "C", 100, time.Time{})
	if _, ok := c.Get("a", time.Time{}); !ok { // a is now the most recent
		t.Fatal("a missing")
	}
	c.Add("d", "D", 100, time.Time{}) // over the bound: b, the oldest, goes
	if c.has("b") || !c.has("a") || !c.has("c") || !c.has("d") {
		t.Fatal("want b evicted, a, c and d kept")
	}
	if c.used != 300 {
		t.Fatalf("used %d, want 300", c.used)
	}
	c.Add("big", "X", 250, time.Time{}) // evicts as many as it takes
	if c.used > 300 || !c.has("big") {
		t.Fatalf("used %d after a large entry", c.used)
	}
}

func TestEntryLargerThanTheBoundIsNotStored(t *testing.T) {
	c := New[string](100, 0)
	c.Add("a", "A", 50, time.Time{})
	c.Add("huge", "H", 101, time.Time{})
	if c.has("huge") || !c.has("a") || c.used != 50 {
		t.Fatal("an oversized entry was stored or evicted others")
	}
}

func TestMaxItems(t *testing.T) {
	c := New[int](1<<20, 2)
	for i, k := range []string{"a", "b", "c"} {
		c.Add(k, i, 1, time.Time{})
	}
	if c.has("a") || c.order.Len() != 2 {
		t.Fatal("want at most 2 entries, the oldest gone")
	}
}

func TestExpiry(t *testing.T) {
	c := New[string](1<<10, 0)
	now := time.Unix(1000, 0)
	c.Add("a", "A", 10, now.Add(time.Second))
	c.Add("forever", "F", 10, time.Time{})
	if v, ok := c.Get("a", now); !ok || v != "A" {
		t.Fatal("fresh entry missing")
	}
	if _, ok := c.Get("a", now.Add(time.Second)); ok {
		t.Fatal("expired entry served")
	}
	if c.has("a") || c.used != 10 {
		t.Fatal("an expired entry must be dropped on read")
	}
	if _, ok := c.Get("forever", now.Add(1000*time.Hour)); !ok {
		t.Fatal("an entry without expiry expired")
	}
}

func TestReplaceAndRemove(t *testing.T) {
	c := New[string](1<<10, 0)
	c.Add("a", "old", 100, time.Time{})
	c.Add("a", "new", 30, time.Time{})
	if v, _ := c.Get("a", time.Time{}); v != "new" || c.used != 30 {
		t.Fatalf("got %q, used %d", v, c.used)
	}
	c.Remove("a")
	c.Remove("never there")
	if c.has("a") || c.used != 0 {
		t.Fatal("Remove left the entry or its bytes")
	}
}
