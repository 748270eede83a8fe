package memory_test

import (
	"testing"

	"tailor/shared/platform/auth/contract"
	"tailor/shared/platform/auth/memory"
)

func TestContract(t *testing.T) {
	contract.Run(t, func(*testing.T) contract.Stores { return contract.Stores{Keys: &memory.Keys{}} })
}
