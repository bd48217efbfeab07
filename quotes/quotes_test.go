package quotes

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		quotes   []Quote
		problems []string
	}{
		{name: "plain lines, em dash and double hyphen attributions",
			in:     "Be kind. — Anon\nStay curious -- Marie Curie\nNo author here\n",
			quotes: []Quote{{"Be kind.", "Anon", 1}, {"Stay curious", "Marie Curie", 2}, {"No author here", "", 3}}},
		{name: "comments and blank lines ignored",
			in:     "# my quotes\n\n   \n  # indented comment\nHello — World\n",
			quotes: []Quote{{"Hello", "World", 5}}},
		{name: "byte order mark and CRLF",
			in:     "\xef\xbb\xbfFirst — A\r\nSecond — B\r\n",
			quotes: []Quote{{"First", "A", 1}, {"Second", "B", 2}}},
		{name: "no trailing newline",
			in:     "Only line — X",
			quotes: []Quote{{"Only line", "X", 1}}},
		{name: "invalid UTF-8 is skipped and named",
			in:       "Good — A\nBad \xff\xfe line\nAlso good\n",
			quotes:   []Quote{{"Good", "A", 1}, {"Also good", "", 3}},
			problems: []string{"line 2: not valid UTF-8; save quotes.txt as UTF-8"}},
		{name: "attribution only",
			in:       "— Somebody\n",
			problems: []string{"line 1: only an attribution, no quote before it"}},
		{name: "control characters dropped, tabs become spaces",
			in:     "Line\tone\x07 — Au\x1bthor\n",
			quotes: []Quote{{"Line one", "Author", 1}}},
		{name: "html stays as text for the composer to escape",
			in:     "<script>alert(1)</script> — <b>x</b>\n",
			quotes: []Quote{{"<script>alert(1)</script>", "<b>x</b>", 1}}},
		{name: "non-ASCII",
			in:     "Ünïcödé and 猫 — Zoë\n",
			quotes: []Quote{{"Ünïcödé and 猫", "Zoë", 1}}},
		{name: "the last separator splits, earlier dashes stay in the quote",
			in:     "Wait -- no -- really — Me\n",
			quotes: []Quote{{"Wait -- no -- really", "Me", 1}}},
		{name: "duplicates skipped",
			in:       "Same — A\nSame — A\n",
			quotes:   []Quote{{"Same", "A", 1}},
			problems: []string{"line 2: same quote as line 1, skipped"}},
		{name: "only comments", in: "# a\n# b\n"},
		{name: "empty", in: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			qs, ps, err := Parse(strings.NewReader(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(qs) != fmt.Sprint(tt.quotes) {
				t.Errorf("quotes = %+v\nwant     %+v", qs, tt.quotes)
			}
			var got []string
			for _, p := range ps {
				got = append(got, p.String())
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.problems) {
				t.Errorf("problems = %q, want %q", got, tt.problems)
			}
		})
	}
}

func TestParseLongLine(t *testing.T) {
	var b bytes.Buffer
	b.WriteString("Before — A\n")
	b.WriteString(strings.Repeat("x", 10<<20))
	b.WriteString("\nAfter — B\n")
	qs, ps, err := Parse(&b)
	if err != nil {
		t.Fatal(err)
	}
	if len(qs) != 2 || qs[0].Text != "Before" || qs[1].Text != "After" || qs[1].Line != 3 {
		t.Errorf("quotes = %v", qs)
	}
	if len(ps) != 1 || ps[0].Line != 2 || !strings.Contains(ps[0].Reason, "longer than") {
		t.Errorf("problems = %v", ps)
	}
}

func TestIDStable(t *testing.T) {
	a := Quote{Text: "x", Author: "y", Line: 1}
	b := Quote{Text: "x", Author: "y", Line: 9}
	c := Quote{Text: "x y", Author: ""}
	if a.ID() != b.ID() || a.ID() == c.ID() {
		t.Errorf("ids: %s %s %s", a.ID(), b.ID(), c.ID())
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"", "a — b\n", "\xef\xbb\xbfx\r\ny -- z", "# c\n\n", "\xff\n", "— a", "a\tb\x00c\u2028d"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		qs, ps, err := Parse(bytes.NewReader(in))
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range qs {
			if q.Text == "" || !utf8.ValidString(q.Text) || !utf8.ValidString(q.Author) {
				t.Fatalf("bad quote %+v", q)
			}
			if strings.ContainsAny(q.Text+q.Author, "\r\n\x00") {
				t.Fatalf("control character in %+v", q)
			}
			if q.Line < 1 {
				t.Fatalf("line %d", q.Line)
			}
		}
		for _, p := range ps {
			if p.Reason == "" || p.Line < 1 {
				t.Fatalf("bad problem %v", p)
			}
		}
	})
}

// A huge quotes file is bounded (issue 11 item 8): at most MaxQuotes
// quotes, at most maxProblems named problems and one line for the rest,
// at most MaxBytes read.
func TestParseBounded(t *testing.T) {
	var b strings.Builder
	for i := range MaxQuotes + 2000 {
		fmt.Fprintf(&b, "Quote number %d. — Anon\n", i)
	}
	qs, ps, err := Parse(strings.NewReader(b.String()))
	if err != nil || len(qs) != MaxQuotes {
		t.Fatalf("%d quotes, %v; want the first %d", len(qs), err, MaxQuotes)
	}
	if len(ps) != 1 || ps[0].Line != MaxQuotes+1 || !strings.Contains(ps[0].Reason, "more than 10000 quotes; this line and the rest of the file are not read") {
		t.Errorf("problems %v; want one saying the rest is not read", ps)
	}

	bad := strings.Repeat("\xff\n", 500) + "Good. — A\n"
	qs, ps, _ = Parse(strings.NewReader(bad))
	if len(qs) != 1 || len(ps) != maxProblems+1 || ps[maxProblems].Reason != "and 400 more lines with problems, up to this one" || ps[maxProblems].Line != 500 {
		t.Errorf("%d quotes, %d problems, last %v; want %d named and one line for the other 400", len(qs), len(ps), ps[len(ps)-1], maxProblems)
	}

	big := io.MultiReader(strings.NewReader("First. — A\n"), bytes.NewReader(bytes.Repeat([]byte("# comment\n"), MaxBytes/10+10)))
	qs, ps, _ = Parse(big)
	if len(qs) != 1 || len(ps) != 1 || !strings.Contains(ps[0].Reason, "the file is larger than 16 MiB; the rest is not read") {
		t.Errorf("%d quotes, problems %v; want the size named", len(qs), ps)
	}
}
