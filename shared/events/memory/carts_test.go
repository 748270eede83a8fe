package memory_test

import (
	"testing"

	"tailor/shared/customers"
	"tailor/shared/events/contract"
	"tailor/shared/events/memory"
)

func TestCartsContract(t *testing.T) {
	contract.RunCarts(t, func(t *testing.T) contract.CartStores {
		s := &memory.Carts{}
		return contract.CartStores{Carts: s, Reach: s,
			SetConsent: func(_ *testing.T, customerID string, consent map[string]customers.ConsentState) {
				var channels []string
				for _, p := range []string{customers.ConsentEmail, customers.ConsentSMS} {
					if consent[p].Granted {
						channels = append(channels, p)
					}
				}
				s.SetChannels(customerID, channels...)
			},
			Erase: func(_ *testing.T, customerID string) { s.Erase(customerID) },
		}
	})
}
