package id

import (
	"sort"
	"testing"
	"time"
)

func TestNewSortsByTime(t *testing.T) {
	var ids []string
	for range 5 {
		ids = append(ids, New(Org))
		time.Sleep(2 * time.Millisecond)
	}
	if !sort.StringsAreSorted(ids) {
		t.Fatalf("ids not sorted by creation: %v", ids)
	}
	for _, s := range ids {
		if !HasPrefix(s, Org) {
			t.Fatalf("%q does not look like an org id", s)
		}
	}
	if HasPrefix("org_../../etc", Org) || HasPrefix(New(Workspace), Org) {
		t.Fatal("HasPrefix accepted a foreign id")
	}
}
