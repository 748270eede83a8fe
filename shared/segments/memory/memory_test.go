package memory_test

import (
	"context"
	"testing"

	"tailor/shared/segments/contract"
	"tailor/shared/segments/memory"
)

func TestContract(t *testing.T) {
	contract.Run(t, func(t *testing.T) contract.Stores {
		c := &memory.CustomerScores{PageSize: 7}
		return contract.Stores{Customers: c, Runs: &memory.SegmentRuns{},
			Erase: func(ctx context.Context, customerID string) error { c.Delete(customerID); return nil }}
	})
}
