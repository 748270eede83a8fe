package memory_test

import (
	"testing"

	"tailor/shared/campaigns/contract"
	"tailor/shared/campaigns/memory"
)

func TestContract(t *testing.T) {
	contract.Run(t, func(*testing.T) contract.Stores {
		people := &memory.Customers{PageSize: 2}
		store := &memory.Store{}
		return contract.Stores{Table: store, Memberships: &memory.Memberships{Store: store}, Customers: people,
			Seed: func(_ *testing.T, recs ...memory.Record) {
				for _, r := range recs {
					people.Put(r)
				}
			}}
	})
}
