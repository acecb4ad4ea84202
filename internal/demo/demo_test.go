package demo_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/hallmark-iot/hallmark/data"
	"github.com/hallmark-iot/hallmark/internal/demo"
	"github.com/hallmark-iot/hallmark/internal/registry"
)

func pool(t *testing.T) []demo.Component {
	b, err := data.FS.ReadFile("demo/components.csv")
	if err != nil {
		t.Fatal(err)
	}
	p, err := demo.ParsePool(b)
	if err != nil || len(p) < 500 {
		t.Fatalf("pool: %d components, %v", len(p), err)
	}
	return p
}

func TestFullMarket(t *testing.T) {
	now := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	p := pool(t)
	m := demo.Plan(demo.Full, 1, p, now)
	if !reflect.DeepEqual(m, demo.Plan(demo.Full, 1, p, now)) {
		t.Fatal("the plan is not deterministic")
	}
	if len(m.Manufacturers) < 100 {
		t.Errorf("%d manufacturers", len(m.Manufacturers))
	}
	cats := map[string]bool{}
	stops := map[string]int{}
	fates := map[string]int{}
	emails := map[string]bool{}
	products := 0
	for _, mf := range m.Manufacturers {
		if emails[mf.User.Email] {
			t.Errorf("e-mail %s used twice", mf.User.Email)
		}
		emails[mf.User.Email] = true
		if err := registry.ValidateOrganisation(mf.Org.Org); err != nil {
			t.Errorf("%s: %v", mf.Org.Org.Name, err)
		}
		for _, pr := range mf.Products {
			products++
			cats[pr.Product.Category] = true
			prod := pr.Product
			if err := registry.ValidateProduct(&prod); err != nil {
				t.Fatalf("%+v: %v", prod, err)
			}
			for _, v := range pr.Versions {
				ver := v.Version
				if err := registry.ValidateVersion(&ver, now); err != nil {
					t.Fatalf("%s %s: %v", prod.Name, ver.SoftwareVersion, err)
				}
				if len(v.Components) < 8 {
					t.Errorf("%s has %d components", prod.Name, len(v.Components))
				}
				if v.Apply != nil {
					stops[v.Apply.Stop]++
					fates[v.Apply.Fate]++
				}
			}
		}
	}
	if products != 2000 || len(cats) < 10 {
		t.Errorf("%d products in %d categories", products, len(cats))
	}
	for _, s := range []string{"draft", "submitted", "in-assessment", "assessed", "approved", "rejected", "withdrawn"} {
		if stops[s] == 0 {
			t.Errorf("no application ends %s", s)
		}
	}
	for _, f := range []string{"active", "suspended", "revoked", "surrendered"} {
		if fates[f] == 0 {
			t.Errorf("no label is %s", f)
		}
	}
	t.Logf("applications by state %v, labels by fate %v", stops, fates)
}
