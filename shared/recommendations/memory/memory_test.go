package memory_test

import (
	"testing"

	"tailor/shared/recommendations/contract"
	"tailor/shared/recommendations/memory"
)

func TestContract(t *testing.T) {
	contract.Run(t, func(t *testing.T) contract.Stores {
		s := memory.New()
		return contract.Stores{Serving: s, Training: s, Seed: s}
	})
}
