package bcache_test

import (
	"fmt"
	"testing"

	"github.com/hallmark-iot/hallmark/internal/bcache"
)

func TestStaysWithinBudget(t *testing.T) {
	c := bcache.New[string](100_000)
	for i := range 10_000 {
		c.Put(fmt.Sprint(i), "v", 1000)
		if c.Used() > 100_000 {
			t.Fatalf("after %d entries: %d bytes kept, budget 100000", i+1, c.Used())
		}
	}
	if c.Len() < 50 {
		t.Errorf("only %d entries kept of a budget for about 90", c.Len())
	}
	if v, ok := c.Get("9999"); !ok || v != "v" {
		t.Error("the newest entry is not kept")
	}
	c.Put("huge", "v", 50_000)
	if _, ok := c.Get("huge"); ok {
		t.Error("an entry of half the budget was kept")
	}
	c.Delete("9999")
	if _, ok := c.Get("9999"); ok {
		t.Error("a deleted entry is still there")
	}
	c.DeleteIf(func(k, v string) bool { return true })
	if c.Len() != 0 || c.Used() != 0 {
		t.Errorf("after deleting all: %d entries, %d bytes", c.Len(), c.Used())
	}
	c.Put("a", "1", 10)
	c.Put("a", "2", 10)
	if v, _ := c.Get("a"); v != "2" || c.Len() != 1 {
		t.Errorf("replacing: %q, %d entries", v, c.Len())
	}
	c.Clear()
	if c.Len() != 0 || c.Used() != 0 {
		t.Error("Clear left entries")
	}
}
