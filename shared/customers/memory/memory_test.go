package memory_test

import (
	"crypto/rand"
	"testing"
	"time"

	"tailor/shared/customers/contract"
	"tailor/shared/customers/memory"
	"tailor/shared/platform/pii"
)

func TestContract(t *testing.T) {
	contract.Run(t, func(t *testing.T) contract.Stores {
		tbl := memory.NewTable()
		return contract.Stores{
			Customers: &memory.Customers{Table: tbl, Index: testIndex(t)},
			Privacy:   &memory.Privacy{Table: tbl},
			Link:      func(_ *testing.T, anonID, customerID string) { tbl.Link(anonID, customerID) },
			TombstoneExpiry: func(_ *testing.T, customerID string) (time.Time, bool) {
				return tbl.TombstoneExpiry(customerID)
			},
		}
	})
}

func testIndex(t *testing.T) *pii.Index {
	k := func() []byte { b := make([]byte, 32); _, _ = rand.Read(b); return b }
	l, err := pii.NewLocalKeys([][]byte{k()}, k())
	if err != nil {
		t.Fatal(err)
	}
	return pii.NewIndex(l)
}
