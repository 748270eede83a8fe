package samtemplate

import (
	"slices"
	"strings"
	"testing"
)

// TestAuditTableIsAppendOnlyAndKeysAreScoped: no role may change or
// delete an audit entry, and the personal data keys are usable only by the
// functions that need them, for exactly the operations they need.
func TestAuditTableIsAppendOnlyAndKeysAreScoped(t *testing.T) {
	tpl := realTemplate(t)
	want := map[string]map[string]string{ // function -> key -> actions
		"CustomersFunction": {"PiiKey": "kms:Decrypt,kms:GenerateDataKey", "PiiIndexKey": "kms:GenerateMac"},
		"IngestFunction":    {"PiiKey": "kms:GenerateDataKey"},
		"CampaignsFunction": {"PiiKey": "kms:Decrypt"},
	}
	for _, fn := range tpl.Functions {
		got := map[string][]string{}
		policies, _ := fn.Policies.List()
		for _, p := range policies {
			m, _ := p.Map()
			stmts, _ := m["Statement"].List()
			for _, st := range stmts {
				sm, _ := st.Map()
				actions, _ := literals(sm["Action"])
				for _, r := range sm["Resource"].References() {
					switch r.Name {
					case "AuditTable":
						for _, a := range actions {
							if a != "dynamodb:PutItem" && a != "dynamodb:Query" {
								t.Errorf("%s may %s on AuditTable; entries are put and queried only", fn.LogicalID, a)
							}
						}
					case "PiiKey", "PiiIndexKey":
						got[r.Name] = append(got[r.Name], actions...)
					}
				}
			}
		}
		for key, acts := range got {
			if strings.Join(sortedCopy(acts), ",") != want[fn.LogicalID][key] {
				t.Errorf("%s has %v on %s, want %q", fn.LogicalID, acts, key, want[fn.LogicalID][key])
			}
		}
		for key, acts := range want[fn.LogicalID] {
			if len(got[key]) == 0 {
				t.Errorf("%s lacks %s on %s", fn.LogicalID, acts, key)
			}
		}
	}
	key, ok := tpl.Resources["PiiKey"]
	if !ok {
		t.Fatal("no PiiKey")
	}
	props, _ := key.Properties.Map()
	if on, _ := props["EnableKeyRotation"].Literal(); on != "true" {
		t.Errorf("PiiKey rotation is %q, want true", on)
	}
}

func sortedCopy(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}

// TestCustomersRoleOnCampaigns: erasure and export reach a customer's
// campaign memberships with exactly what they need: Query on
// customer-index (never the table, never Scan), BatchGetItem of the
// campaign items (export) and BatchWriteItem deletes (erasure).
func TestCustomersRoleOnCampaigns(t *testing.T) {
	tpl := realTemplate(t)
	got := map[string][]string{} // "table" or "index" -> actions
	for _, fn := range tpl.Functions {
		if fn.LogicalID != "CustomersFunction" {
			continue
		}
		policies, _ := fn.Policies.List()
		for _, p := range policies {
			m, _ := p.Map()
			stmts, _ := m["Statement"].List()
			for _, st := range stmts {
				sm, _ := st.Map()
				actions, _ := literals(sm["Action"])
				for _, r := range sm["Resource"].References() {
					if r.Name != "CampaignsTable" {
						continue
					}
					where := "table"
					if r.Kind == "Fn::Sub" {
						where = "index"
					}
					got[where] = append(got[where], actions...)
				}
			}
		}
	}
	if g := strings.Join(sortedCopy(got["table"]), ","); g != "dynamodb:BatchGetItem,dynamodb:BatchWriteItem" {
		t.Errorf("CustomersFunction has %q on CampaignsTable, want BatchGetItem and BatchWriteItem", g)
	}
	if g := strings.Join(sortedCopy(got["index"]), ","); g != "dynamodb:Query" {
		t.Errorf("CustomersFunction has %q on CampaignsTable indexes, want Query (customer-index)", g)
	}
}
