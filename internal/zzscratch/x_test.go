package zzscratch

import (
	"context"
	"fmt"
	"testing"

	"github.com/hallmark-iot/hallmark/internal/registry"
	"github.com/hallmark-iot/hallmark/internal/server/servertest"
	"github.com/hallmark-iot/hallmark/internal/store"
)

func TestDump(t *testing.T) {
	in := servertest.Start(t, "sqlite")
	ctx := context.Background()
	for _, k := range []registry.OrgKind{registry.Authority, registry.AssessorLab, registry.Manufacturer} {
		orgs, _ := in.Store.Organisations(ctx, k)
		for _, o := range orgs {
			us, _ := in.Store.Users(ctx, o.ID)
			fmt.Println(k, o.ID, o.Name, o.Schemes, us[0].Email)
		}
	}
	ps, _, _ := in.Store.Products(ctx, store.ProductQuery{All: true, Limit: 100})
	for _, p := range ps {
		vs, _ := in.Store.Versions(ctx, p.ID)
		fmt.Println("product", p.ID, p.ManufacturerID, p.Published, p.Name, len(vs))
	}
	as, _, _ := in.Store.Applications(ctx, store.AppQuery{Limit: 200})
	for _, a := range as {
		fmt.Println("app", a.ID, a.VersionID, a.ProductID, a.ManufacturerID, a.SchemeID, a.LevelID, a.State, a.AssessorOrgID, a.LabelID)
	}
	ls, _, _ := in.Store.Labels(ctx, store.LabelQuery{Limit: 200})
	for _, l := range ls {
		fmt.Println("label", l.ID, l.Status, l.SchemeID, l.ManufacturerID, l.ApplicationID)
	}
}
