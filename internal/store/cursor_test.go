package store_test

import (
	"strings"
	"testing"
	"time"

	"github.com/hallmark-iot/hallmark/internal/store"
)

func TestLabelKeyRoundTrip(t *testing.T) {
	k := store.LabelKey{Issued: time.Date(2026, 3, 2, 9, 0, 0, 123000, time.UTC), ID: "HM-7K2Q-9XWD"}
	got, err := store.ParseLabelKey(k.Encode())
	if err != nil || !got.Issued.Equal(k.Issued) || got.ID != k.ID {
		t.Fatalf("round trip: %+v, %v", got, err)
	}
	for _, bad := range []string{"", "!!", "bm90IGEgY3Vyc29y", k.Encode() + "AAAA" + string(make([]byte, 200))} {
		if _, err := store.ParseLabelKey(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// FuzzParseLabelKey: a cursor comes from a stranger's URL.
func FuzzParseLabelKey(f *testing.F) {
	f.Add(store.LabelKey{Issued: time.Unix(0, 0).UTC(), ID: "HM-AAAA-BBBB"}.Encode())
	f.Add("")
	f.Add("MjAyNi0wMy0wMlQwOTowMDowMC4wMDAwMDBaIEhN")
	f.Fuzz(func(t *testing.T, c string) {
		k, err := store.ParseLabelKey(c)
		if err != nil {
			return
		}
		again, err := store.ParseLabelKey(k.Encode())
		if err != nil || again.ID != k.ID || !again.Issued.Equal(k.Issued) {
			t.Fatalf("%q parsed to %+v, which does not round-trip: %+v %v", c, k, again, err)
		}
	})
}

// A product's cursor keeps names with spaces and non-ASCII letters, and a
// label's cursor is not taken for a product's.
func TestProductKeyRoundTrip(t *testing.T) {
	k := store.ProductKey{Manufacturer: "Société Générale d'Objets", Name: "Caméra 4K – extérieur", ID: 912345}
	got, err := store.ParseProductKey(k.Encode())
	if err != nil || got != k {
		t.Fatalf("round trip: %+v, %v", got, err)
	}
	label := store.LabelKey{Issued: time.Unix(0, 0).UTC(), ID: "HM-AAAA-BBBB"}.Encode()
	for _, bad := range []string{"", "!!", label, store.ProductKey{Name: "x"}.Encode()} {
		if _, err := store.ParseProductKey(bad); err == nil {
			t.Errorf("%q accepted as a product cursor", bad)
		}
	}
}

// FuzzParseProductKey: what parses round-trips, and the longest names a
// product may have still make a cursor that parses.
func FuzzParseProductKey(f *testing.F) {
	long := strings.Repeat("界", 200)
	if _, err := store.ParseProductKey(store.ProductKey{Manufacturer: long, Name: long, ID: 1 << 62}.Encode()); err != nil {
		f.Fatalf("the longest names: %v", err)
	}
	f.Add(store.ProductKey{Manufacturer: "Acme", Name: "Cam 2", ID: 7}.Encode())
	f.Add("")
	f.Fuzz(func(t *testing.T, c string) {
		k, err := store.ParseProductKey(c)
		if err != nil {
			return
		}
		if again, err := store.ParseProductKey(k.Encode()); err != nil || again != k {
			t.Fatalf("%q parsed to %+v, which does not round-trip: %+v %v", c, k, again, err)
		}
	})
}
