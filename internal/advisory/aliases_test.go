package advisory

import (
	"reflect"
	"testing"
)

func TestAliases(t *testing.T) {
	advs := []Advisory{
		{ID: "GO-2022-1002", Aliases: []string{"CVE-2022-39213", "GHSA-xhmf-mmv2-4hhx"}},
		{ID: "GHSA-xhmf-mmv2-4hhx", Aliases: []string{"CVE-2022-39213"}},
		{ID: "DEBIAN-CVE-2022-39213", Upstream: []string{"CVE-2022-39213"}},
		{ID: "PYSEC-2020-1", Aliases: []string{"GHSA-aaaa"}},
		{ID: "GHSA-aaaa"},
	}
	if got, want := Group(advs), [][]int{{0, 1}, {2}, {3, 4}}; !reflect.DeepEqual(got, want) {
		t.Errorf("groups %v, want %v", got, want)
	}
	// The key does not depend on the order of the unions.
	for _, order := range [][]int{{0, 1, 2, 3, 4}, {4, 3, 2, 1, 0}, {1, 3, 0, 4, 2}} {
		var a Aliases
		for _, i := range order {
			a.Add(advs[i])
		}
		for id, want := range map[string]string{
			"GO-2022-1002": "CVE-2022-39213", "GHSA-xhmf-mmv2-4hhx": "CVE-2022-39213",
			"DEBIAN-CVE-2022-39213": "DEBIAN-CVE-2022-39213", "PYSEC-2020-1": "GHSA-aaaa", "unknown": "unknown",
		} {
			if got := a.Key(id); got != want {
				t.Errorf("order %v: Key(%s) = %s, want %s", order, id, got, want)
			}
		}
	}
}
