package memory_test

import (
	"testing"

	"tailor/shared/platform/audit/contract"
	"tailor/shared/platform/audit/memory"
)

func TestContract(t *testing.T) {
	contract.Run(t, func(*testing.T) contract.Stores { return contract.Stores{Audit: &memory.Audit{}} })
}
