package campaigns

import (
	"crypto/sha256"
	"encoding/binary"

	"tailor/shared/platform/errs"
)

// Arm is the group a member was assigned to.
type Arm string

// The arms.
const (
	Treatment Arm = "treatment"
	Holdout   Arm = "holdout"
)

// Arms lists the arms in a stable order.
var Arms = []Arm{Treatment, Holdout}

// ParseArm reads an arm name; "" is the treatment arm.
func ParseArm(s string) (Arm, error) {
	switch Arm(s) {
	case "", Treatment:
		return Treatment, nil
	case Holdout:
		return Holdout, nil
	}
	var v errs.Validator
	v.Add("arm", "must be %s or %s", Treatment, Holdout)
	return "", v.Err()
}

// Member is one customer of a launched campaign's audience and its arm.
type Member struct {
	CustomerID string
	Arm        Arm
}

// Assign puts a customer in an arm by a hash of (campaign id, customer
// id): the first 8 bytes of SHA-256(campaignID NUL customerID), read as a
// big-endian integer and divided by 2^64, give a number u uniform in
// [0, 1); u < holdout is the holdout arm. The same pair always lands in
// the same arm, whatever else is in the audience, and different campaigns
// split the same customers independently.
func Assign(campaignID, customerID string, holdout float64) Arm {
	if Unit(campaignID, customerID) < holdout {
		return Holdout
	}
	return Treatment
}

// Unit is the number in [0, 1) Assign compares with the holdout share.
func Unit(campaignID, customerID string) float64 {
	h := sha256.Sum256([]byte(campaignID + "\x00" + customerID))
	return float64(binary.BigEndian.Uint64(h[:8])>>11) / (1 << 53)
}

// NewCampaignID renders 10 random bytes as a campaign id: "cmp-" and 16
// characters of lower-case base32.
func NewCampaignID(random [10]byte) string { return "cmp-" + base32(random) }

// NewSnapshotID renders 10 random bytes as the id of one audience
// snapshot: "snap-" and 16 characters of lower-case base32.
func NewSnapshotID(random [10]byte) string { return "snap-" + base32(random) }

func base32(random [10]byte) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz234567"
	var out [16]byte
	var bits uint64
	n, j := 0, 0
	for _, b := range random {
		bits = bits<<8 | uint64(b)
		n += 8
		for n >= 5 {
			n -= 5
			out[j] = alphabet[(bits>>n)&31]
			j++
		}
	}
	return string(out[:])
}
