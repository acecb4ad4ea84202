package tlogpolicy

import (
	"crypto/rand"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"

	"github.com/hallmark-iot/hallmark/internal/tlog"
)

type keys struct {
	logSigner note.Signer
	logVKey   string
	witnesses []note.Signer
	wvkeys    []string
}

func makeKeys(t testing.TB, n int) keys {
	t.Helper()
	skey, vkey, err := note.GenerateKey(rand.Reader, "a.example/log")
	if err != nil {
		t.Fatal(err)
	}
	s, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	k := keys{logSigner: s, logVKey: vkey}
	for i := range n {
		ws, wv, err := tlog.LoadOrCreateWitnessSigner(filepath.Join(t.TempDir(), "w"), "w"+string(rune('1'+i))+".example")
		if err != nil {
			t.Fatal(err)
		}
		k.witnesses, k.wvkeys = append(k.witnesses, ws), append(k.wvkeys, wv)
	}
	return k
}

func (k keys) checkpoint(t *testing.T, cosigners ...int) []byte {
	t.Helper()
	signers := []note.Signer{k.logSigner}
	for _, i := range cosigners {
		signers = append(signers, k.witnesses[i])
	}
	msg, err := note.Sign(&note.Note{Text: "a.example/log\n5\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"}, signers...)
	if err != nil {
		t.Fatal(err)
	}
	return msg
}

// The specification's example shape: two groups of three, 2-of-3 from one
// and any from the other, both required.
func TestNestedQuorum(t *testing.T) {
	k := makeKeys(t, 6)
	text := "# two organisations\nlog " + k.logVKey + " https://a.example/log/\n"
	for i, v := range k.wvkeys {
		text += "witness W" + string(rune('1'+i)) + " " + v + "\n"
	}
	text += "group X 2 W1 W2 W3\n\tgroup Y any W4 W5 W6\ngroup XY all X Y\nquorum XY\n"
	p, err := Parse([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		cosigners []int
		ok        bool
	}{{[]int{0, 1, 3}, true}, {[]int{0, 3}, false}, {[]int{0, 1, 2}, false}, {[]int{2, 1, 5}, true}, {nil, false}} {
		_, err := p.Check(k.checkpoint(t, c.cosigners...))
		if (err == nil) != c.ok {
			t.Errorf("cosigned by %v: err %v, want ok=%v", c.cosigners, err, c.ok)
		}
	}
	// Format and Parse agree.
	again, err := Parse(p.Format("round trip"))
	if err != nil || len(again.Groups) != 3 || again.Quorum != "XY" || again.Groups[0].K != 2 {
		t.Fatalf("round trip: %v %+v", err, again)
	}
}

func TestSimplePolicyAndNone(t *testing.T) {
	k := makeKeys(t, 2)
	p := Simple(Log{VKey: k.logVKey}, []Witness{{Name: "c1", VKey: k.wvkeys[0]}, {Name: "c2", VKey: k.wvkeys[1]}}, 1)
	parsed, err := Parse(p.Format("one of two"))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := parsed.Check(k.checkpoint(t, 1)); err != nil || len(got) != 1 || got[0] != "c2" {
		t.Errorf("one cosignature: %v %v", got, err)
	}
	if _, err := parsed.Check(k.checkpoint(t)); err == nil {
		t.Error("no cosignature met a 1-of-2 quorum")
	}
	none, err := Parse([]byte("log " + k.logVKey + "\nquorum none\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := none.Check(k.checkpoint(t)); err != nil {
		t.Errorf("quorum none: %v", err)
	}
	other := makeKeys(t, 0)
	if _, err := none.Check(other.checkpoint(t)); err == nil {
		t.Error("a checkpoint of another log's key passed")
	}
}

func TestRefusesWhatTheSpecificationForbids(t *testing.T) {
	k := makeKeys(t, 2)
	w1, w2 := "witness A "+k.wvkeys[0]+"\n", "witness B "+k.wvkeys[1]+"\n"
	for name, text := range map[string]string{
		"no quorum":         w1,
		"two quorums":       w1 + "quorum A\nquorum A\n",
		"forward reference": "group G any A\n" + w1 + "quorum G\n",
		"duplicate name":    w1 + "witness A " + k.wvkeys[1] + "\nquorum A\n",
		"duplicate key":     w1 + "witness B " + k.wvkeys[0] + "\nquorum A\n",
		"threshold 0":       w1 + w2 + "group G 0 A B\nquorum G\n",
		"threshold over n":  w1 + w2 + "group G 3 A B\nquorum G\n",
		"member twice":      w1 + "group G any A A\nquorum G\n",
		"none as member":    w1 + "group G any none\nquorum G\n",
		"unknown line":      w1 + "quorom A\nquorum A\n",
		"control character": w1 + "quorum A\r\n",
		"bad key":           "witness A nonsense\nquorum A\n",
	} {
		if _, err := Parse([]byte(text)); !errors.Is(err, ErrPolicy) {
			t.Errorf("%s: %v, want ErrPolicy", name, err)
		}
	}
	if _, err := Parse([]byte(strings.Repeat("#", MaxBytes+1))); err == nil {
		t.Error("an oversized policy was read")
	}
}

func FuzzParse(f *testing.F) {
	k := makeKeys(f, 2)
	f.Add([]byte("log " + k.logVKey + "\nwitness A " + k.wvkeys[0] + "\nwitness B " + k.wvkeys[1] + " https://b.example/witness\ngroup G 1 A B\nquorum G\n"))
	f.Add([]byte("quorum none\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		p, err := Parse(in)
		if err != nil {
			return
		}
		if _, err := Parse(p.Format("")); err != nil {
			t.Fatalf("a parsed policy does not parse once written: %v", err)
		}
	})
}
