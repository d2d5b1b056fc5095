package main

import (
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// hl7Feed is a day of a stay as the interface engine sends it, one message per blank-line
// separated block: an admission, lab results (a venous blood gas, a lactate, a urine culture
// with its specimen in OBR-15), a progress note, the results again (same control id), a result
// whose value is not a number, and the discharge to home health.
const hl7Feed = `MSH|^~\&|ADT|GENHOSP|DRG|CDI|20261201083000||ADT^A01^ADT_A01|ADT0001|P|2.5.1
EVN|A01|20261201083000
PID|1||MRN77^^^GENHOSP^MR||DOE^JANE||19480704|F||||||||||ACC7001
PV1|1|I|4W^401^A||||D100^House^Greg^^^^MD|||||||||||||||||||||||||||||||||||||20261201080000
DG1|1||A41.9^Sepsis, unspecified organism^I10||20261201090000|A||||||||||D100^House^Greg^^^^MD||||||||||Y

MSH|^~\&|LAB|GENHOSP|DRG|CDI|20261201110000||ORU^R01^ORU_R01|LAB0001|P|2.5.1
PID|1||MRN77^^^GENHOSP^MR||DOE^JANE||19480704|F||||||||||ACC7001
OBR|1|||VBG^Venous blood gas|||20261201101200
OBX|1|NM|2746-6^pH of Venous blood^LN||7.29||7.31-7.41|L|||F|||20261201101200
OBX|2|NM|2021-4^pCO2 venous^LN||58|mm[Hg]|41-51|H|||F|||20261201101200
SPM|1|||BLDV^^HL70487
OBR|2|||LACT^Lactate
OBX|1|NM|2524-7^Lactate^LN||3.4|mmol/L|0.5-2.2|H|||F|||20261201101500
SPM|1|||PLAS^^HL70487
OBR|3|||UCX^Urine culture|||||||||||UR&&HL70070
OBX|1|ST|630-4^Urine culture^LN||>100,000 CFU/mL Escherichia coli||||||F|||20261202090000

MSH|^~\&|TRANS|GENHOSP|DRG|CDI|20261202100000||MDM^T02^MDM_T02|DOC0001|P|2.5.1
PID|1||MRN77^^^GENHOSP^MR||DOE^JANE||19480704|F||||||||||ACC7001
TXA|1|PN^Progress note||20261202093000|||||D100^House^Greg^^^^MD|||DOC-55||||||AU
OBX|1|TX|||Assessment: sepsis due to E. coli UTI\.br\Lactate 3.4 \T\ pH 7.29 on venous gas||||||F

MSH|^~\&|LAB|GENHOSP|DRG|CDI|20261201110000||ORU^R01^ORU_R01|LAB0001|P|2.5.1
PID|1||MRN77^^^GENHOSP^MR||DOE^JANE||19480704|F||||||||||ACC7001
OBR|1|||VBG^Venous blood gas|||20261201101200
OBX|1|NM|2746-6^pH of Venous blood^LN||7.29||7.31-7.41|L|||F|||20261201101200
OBX|2|NM|2021-4^pCO2 venous^LN||58|mm[Hg]|41-51|H|||F|||20261201101200
SPM|1|||BLDV^^HL70487
OBR|2|||LACT^Lactate
OBX|1|NM|2524-7^Lactate^LN||3.4|mmol/L|0.5-2.2|H|||F|||20261201101500
SPM|1|||PLAS^^HL70487
OBR|3|||UCX^Urine culture|||||||||||UR&&HL70070
OBX|1|ST|630-4^Urine culture^LN||>100,000 CFU/mL Escherichia coli||||||F|||20261202090000

MSH|^~\&|LAB|GENHOSP|DRG|CDI|20261202120000||ORU^R01^ORU_R01|LAB0002|P|2.5.1
PID|1||MRN77^^^GENHOSP^MR||DOE^JANE||19480704|F||||||||||ACC7001
OBR|1|||BMP^Basic metabolic panel
OBX|1|NM|2160-0^Creatinine^LN||1,9|mg/dL|0.6-1.2|H|||F|||20261202060000

MSH|^~\&|ADT|GENHOSP|DRG|CDI|20261205120000||ADT^A03^ADT_A03|ADT0002|P|2.5.1
EVN|A03|20261205120000
PID|1||MRN77^^^GENHOSP^MR||DOE^JANE||19480704|F||||||||||ACC7001
PV1|1|I|4W^401^A||||D100^House^Greg^^^^MD|||||||||||||||||||||||||||||06||||||||20261201080000|20261205113000
`

// TestHL7Interface (issue 26, Done when): drg serve --hl7-addr receives over MLLP an A01, an
// ORU^R01 with a venous blood gas, a lactate and a urine culture, an MDM^T02 note, the ORU
// again, a malformed ORU and an A03, sent by drg hl7 send. The acknowledgements are AA, AA,
// AA, AA (the duplicate, applied once), AE naming OBX-5, AA; the encounter has its age, dates,
// discharge status and evidence over the HTTP API; the malformed message is kept and listed.
func TestHL7Interface(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	dir := t.TempDir()
	bin := buildDrg(t)
	dsn := "sqlite:" + filepath.Join(dir, "drg.db")
	token := addUser(t, bin, dsn, "coder1", "coder")
	srv := startServer(t, bin, dsn, "--hl7-addr", "127.0.0.1:0", "--time-zone", "America/New_York")
	re := regexp.MustCompile(`"msg":"hl7 listening","hl7_addr":"([^"]+)"`)
	var hl7Addr string
	for deadline := time.Now().Add(20 * time.Second); hl7Addr == "" && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if m := re.FindStringSubmatch(srv.logs.String()); m != nil {
			hl7Addr = m[1]
		}
	}
	if hl7Addr == "" {
		t.Fatalf("no hl7 listener:\n%s", srv.logs.String())
	}
	feed := filepath.Join(dir, "feed.hl7")
	if err := os.WriteFile(feed, []byte(hl7Feed), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "hl7", "send", "--addr", hl7Addr, feed).Output()
	if ee, ok := err.(*exec.ExitError); err != nil && (!ok || ee.ExitCode() != exitFailure) {
		t.Fatalf("hl7 send: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	want := []struct{ ctrl, ack, text string }{
		{"ADT0001", "AA", ""}, {"LAB0001", "AA", ""}, {"DOC0001", "AA", ""}, {"LAB0001", "AA", ""},
		{"LAB0002", "AE", "OBX-5"}, {"ADT0002", "AA", ""},
	}
	if len(lines) != len(want) {
		t.Fatalf("%d acknowledgements, want %d:\n%s\n%s", len(lines), len(want), out, srv.logs.String())
	}
	for i, w := range want {
		f := strings.Split(lines[i], "\t")
		if len(f) < 3 || f[1] != w.ctrl || f[2] != w.ack || w.text != "" && (len(f) < 4 || !strings.Contains(f[3], w.text)) {
			t.Errorf("acknowledgement %d: %q, want %s %s %s", i+1, lines[i], w.ctrl, w.ack, w.text)
		}
	}

	get := func(path string, v any) {
		t.Helper()
		req, _ := http.NewRequest("GET", "http://"+srv.addr+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d", path, resp.StatusCode)
		}
		if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
			t.Fatal(err)
		}
	}
	var list struct {
		Items []struct{ ID, Account string }
	}
	get("/v1/encounters?facility=GENHOSP", &list)
	if len(list.Items) != 1 || list.Items[0].Account != "ACC7001" {
		t.Fatalf("encounters %+v", list.Items)
	}
	type evidence struct {
		Kind, Name, LOINC, Unit, Specimen, Text, Code, POA string
		NoteType                                           string `json:"note_type"`
		AuthorRole                                         string `json:"author_role"`
		ReferenceRange                                     string `json:"reference_range"`
		Value                                              any
		Time                                               time.Time
	}
	var enc struct {
		Status, Sex, Facility, Unit string
		Age                         int
		AdmitDate                   string `json:"admit_date"`
		DischargeDate               string `json:"discharge_date"`
		DischargeStatus             int    `json:"discharge_status"`
		RowVersion                  int    `json:"row_version"`
		Evidence                    []evidence
	}
	get("/v1/encounters/"+list.Items[0].ID, &enc)
	if enc.Status != "discharged" || enc.Sex != "F" || enc.Age != 78 || enc.AdmitDate != "2026-12-01" || enc.DischargeDate != "2026-12-05" ||
		enc.DischargeStatus != 6 || enc.Unit != "4W" {
		t.Errorf("encounter %+v", enc)
	}
	// Created by the A01, changed by the ORU, the MDM and the A03: the duplicate changed nothing.
	if enc.RowVersion != 4 {
		t.Errorf("row version %d, want 4 (the duplicate applied once)", enc.RowVersion)
	}
	byName := map[string]evidence{}
	for _, e := range enc.Evidence {
		byName[e.Kind+":"+e.Name+e.NoteType+e.Code] = e
	}
	if len(enc.Evidence) != 6 {
		t.Errorf("%d evidence items, want 6: %+v", len(enc.Evidence), enc.Evidence)
	}
	ny, _ := time.LoadLocation("America/New_York")
	checks := []struct {
		key, specimen, loinc string
		value                any
		time                 time.Time
	}{
		{"lab:pH of Venous blood", "Venous blood", "2746-6", 7.29, time.Date(2026, 12, 1, 10, 12, 0, 0, ny)},
		{"lab:pCO2 venous", "Venous blood", "2021-4", 58.0, time.Date(2026, 12, 1, 10, 12, 0, 0, ny)},
		{"lab:Lactate", "Plasma", "2524-7", 3.4, time.Date(2026, 12, 1, 10, 15, 0, 0, ny)},
		{"lab:Urine culture", "Urine", "630-4", ">100,000 CFU/mL Escherichia coli", time.Date(2026, 12, 2, 9, 0, 0, 0, ny)},
	}
	for _, c := range checks {
		e, ok := byName[c.key]
		if !ok {
			t.Errorf("no evidence %s in %+v", c.key, enc.Evidence)
			continue
		}
		if e.Specimen != c.specimen || e.LOINC != c.loinc || e.Value != c.value || !e.Time.Equal(c.time) {
			t.Errorf("%s: %+v", c.key, e)
		}
	}
	if n := byName["note:Progress note"]; n.Text != "Assessment: sepsis due to E. coli UTI\nLactate 3.4 & pH 7.29 on venous gas" || n.AuthorRole != "physician" {
		t.Errorf("note %+v", n)
	}
	if d := byName["documented_dx:Sepsis, unspecified organismA419"]; d.POA != "Y" {
		t.Errorf("documented diagnosis %+v", d)
	}
	var errs struct {
		Items []struct {
			ControlID  string `json:"control_id"`
			Facility   string
			Ack        string
			ErrorField string `json:"error_field"`
			Error      string
			Message    string
		}
	}
	get("/v1/interface/errors", &errs)
	if len(errs.Items) != 1 || errs.Items[0].ControlID != "LAB0002" || errs.Items[0].Ack != "AE" || errs.Items[0].ErrorField != "OBX-5" ||
		!strings.Contains(errs.Items[0].Error, "1,9") || !strings.Contains(errs.Items[0].Message, "OBX|1|NM|2160-0") {
		t.Errorf("interface errors %+v", errs.Items)
	}
	// Note text is never logged.
	if strings.Contains(srv.logs.String(), "Assessment") || strings.Contains(srv.logs.String(), "ACC7001") {
		t.Errorf("the server logged note text or the account:\n%s", srv.logs.String())
	}
}
