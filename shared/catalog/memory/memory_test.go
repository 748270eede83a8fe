package memory_test

import (
	"testing"

	"tailor/shared/catalog/contract"
	"tailor/shared/catalog/memory"
)

func TestContract(t *testing.T) {
	contract.Run(t, func(*testing.T) contract.Stores { return contract.Stores{Items: &memory.Items{}} })
}
