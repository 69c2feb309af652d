package storetest

import (
	"slices"
	"sync"
	"time"

	"github.com/berth-dev/berth/internal/store"
)

func testCertObjects(f *fixture) {
	t := f.t
	put := func(key, value string) *store.CertObject {
		o := &store.CertObject{Key: key, Value: []byte(value), UpdatedAt: at(1)}
		ok(t, f.st.PutCertObject(f.ctx, o))
		return o
	}
	crt := put("certificates/ca/app.example/app.example.crt", "cert")
	put("certificates/ca/app.example/app.example.key", "key")
	put("certificates/ca/app.example.org/app.example.org.crt", "sibling") // shares a prefix, not a folder
	put("acme/ca/users/ops@example.com/ops.key", "account")

	got, err := f.st.GetCertObject(f.ctx, crt.Key)
	ok(t, err)
	same(t, got, crt)
	crt.Value, crt.UpdatedAt = []byte("renewed"), at(2)
	ok(t, f.st.PutCertObject(f.ctx, crt))
	got, err = f.st.GetCertObject(f.ctx, crt.Key)
	ok(t, err)
	same(t, got, crt)
	_, err = f.st.GetCertObject(f.ctx, "certificates/ca/app.example")
	is(t, err, store.ErrNotFound, "a folder is not an object")

	keys, err := f.st.ListCertKeys(f.ctx, "certificates/ca/app.example")
	ok(t, err)
	if want := []string{"certificates/ca/app.example/app.example.crt", "certificates/ca/app.example/app.example.key"}; !slices.Equal(keys, want) {
		t.Errorf("keys under the folder = %q, want %q", keys, want)
	}
	all, err := f.st.ListCertKeys(f.ctx, "")
	ok(t, err)
	if len(all) != 4 {
		t.Errorf("every key = %q, want 4", all)
	}

	ok(t, f.st.DeleteCertObjects(f.ctx, "certificates/ca/app.example"))
	ok(t, f.st.DeleteCertObjects(f.ctx, "certificates/ca/app.example")) // nothing left: no error
	keys, err = f.st.ListCertKeys(f.ctx, "certificates")
	ok(t, err)
	if want := []string{"certificates/ca/app.example.org/app.example.org.crt"}; !slices.Equal(keys, want) {
		t.Errorf("after deleting the folder: %q, want %q", keys, want)
	}
	ok(t, f.st.DeleteCertObjects(f.ctx, "acme/ca/users/ops@example.com/ops.key"))
	_, err = f.st.GetCertObject(f.ctx, "acme/ca/users/ops@example.com/ops.key")
	is(t, err, store.ErrNotFound, "a deleted object")
}

func testCertLocks(f *fixture) {
	t := f.t
	soon := time.Now().Add(time.Minute)
	took := func(name, owner string, until time.Time) bool {
		got, err := f.st.TryLockCert(f.ctx, name, owner, until)
		ok(t, err)
		return got
	}
	if !took("issue_cert_a", "edge1", soon) {
		t.Fatal("a free lock was not taken")
	}
	if took("issue_cert_a", "edge2", soon) {
		t.Error("a held lock was taken by another owner")
	}
	if !took("issue_cert_a", "edge1", soon.Add(time.Minute)) {
		t.Error("the owner could not extend its lock")
	}
	if !took("issue_cert_b", "edge2", soon) {
		t.Error("another name's lock was not free")
	}
	ok(t, f.st.UnlockCert(f.ctx, "issue_cert_a", "edge2")) // not its lock: no effect
	if took("issue_cert_a", "edge2", soon) {
		t.Error("a lock released by someone who did not hold it was taken")
	}
	ok(t, f.st.UnlockCert(f.ctx, "issue_cert_a", "edge1"))
	if !took("issue_cert_a", "edge2", soon) {
		t.Error("a released lock was not taken")
	}
	// An expired lock (its edge died) is free.
	if !took("issue_cert_c", "edge1", time.Now().Add(-time.Second)) {
		t.Fatal("a free lock was not taken")
	}
	if !took("issue_cert_c", "edge2", soon) {
		t.Error("an expired lock was not taken over")
	}

	// Many edges racing for one free lock: exactly one wins.
	var wg sync.WaitGroup
	var mu sync.Mutex
	winners := 0
	for i := range 8 {
		wg.Go(func() {
			got, err := f.st.TryLockCert(f.ctx, "issue_cert_race", string(rune('a'+i)), soon)
			if err != nil {
				t.Error(err)
				return
			}
			if got {
				mu.Lock()
				winners++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if winners != 1 {
		t.Errorf("%d owners took one lock, want 1", winners)
	}
}
