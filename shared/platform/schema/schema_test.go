package schema

import "testing"

// TestChangeShard pins the shard function: readers and writers of the
// change feed in different deployments must agree on it. The hashes are
// FNV-1a 32 computed independently (0xe40c292c for "a" and so on).
func TestChangeShard(t *testing.T) {
	for _, tc := range []struct {
		itemID string
		shard  int
	}{
		{"a", 0}, {"b", 1}, {"c", 2}, {"d", 3}, {"sku-7", 2}, {"teapot", 0}, {"", 1},
	} {
		if got := ChangeShard(tc.itemID); got != tc.shard {
			t.Errorf("ChangeShard(%q) = %d, want %d", tc.itemID, got, tc.shard)
		}
	}
	if pk := ChangePK(3); pk != "CHG#3" {
		t.Errorf("ChangePK(3) = %q", pk)
	}
}
