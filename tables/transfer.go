package tables

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/msdrg-cdi/drg/claim"
	"github.com/msdrg-cdi/drg/payment"
)

// TransferFlags are the post-acute transfer and special-pay DRG flags of IPPS Table 5 for one
// fiscal year (transfer/msdrg_fyYYYY_transfer_flags.csv).
type TransferFlags struct {
	FiscalYear int
	Source     string

	flags [1000]uint8 // bit 0: listed, 1: post-acute, 2: special pay
	n     int
}

// Get returns the flags of MS-DRG drg; ok is false when the year's file does not list it.
func (t *TransferFlags) Get(drg int) (payment.Flags, bool) {
	if drg <= 0 || drg >= len(t.flags) || t.flags[drg]&1 == 0 {
		return payment.Flags{}, false
	}
	f := t.flags[drg]
	return payment.Flags{PostAcute: f&2 != 0, SpecialPay: f&4 != 0}, true
}

// Len returns the number of DRGs listed.
func (t *TransferFlags) Len() int { return t.n }

// Counts returns the number of post-acute and of special-pay DRGs.
func (t *TransferFlags) Counts() (postAcute, specialPay int) {
	for _, f := range t.flags {
		if f&2 != 0 {
			postAcute++
		}
		if f&4 != 0 {
			specialPay++
		}
	}
	return postAcute, specialPay
}

var transferHeader = []string{"msdrg", "post_acute", "special_pay"}

// ParseTransferFlags parses a transfer-flag CSV named name: optional '#' comment lines, the
// header msdrg,post_acute,special_pay, then one row per DRG with Y or N flags (special pay
// only for a post-acute DRG). The fiscal year comes from the name or the first comment, as
// for Table 5 weights. Errors name the file and line.
func ParseTransferFlags(name string, content []byte) (*TransferFlags, error) {
	fy, err := weightsFiscalYear(name, content)
	if err != nil {
		return nil, err
	}
	t := &TransferFlags{FiscalYear: fy, Source: name}
	err = readDRGCSV(name, content, transferHeader, func(line int, rec []string) error {
		if len(rec) != 3 {
			return fmt.Errorf("%s:%d: %d fields, want 3 (msdrg,post_acute,special_pay)", name, line, len(rec))
		}
		drg, err := strconv.Atoi(strings.TrimSpace(rec[0]))
		if err != nil || drg < 1 || drg > 999 {
			return fmt.Errorf("%s:%d: msdrg %q: want a number from 1 to 999", name, line, rec[0])
		}
		if t.flags[drg] != 0 {
			return fmt.Errorf("%s:%d: MS-DRG %03d listed twice", name, line, drg)
		}
		f := uint8(1)
		for i, bit := range []uint8{2, 4} {
			switch strings.ToUpper(strings.TrimSpace(rec[i+1])) {
			case "Y":
				f |= bit
			case "N":
			default:
				return fmt.Errorf("%s:%d: %s %q: want Y or N", name, line, transferHeader[i+1], rec[i+1])
			}
		}
		if f&4 != 0 && f&2 == 0 {
			return fmt.Errorf("%s:%d: MS-DRG %03d is special pay but not post-acute", name, line, drg)
		}
		t.flags[drg] = f
		t.n++
		return nil
	})
	if err != nil {
		return nil, err
	}
	if t.n == 0 {
		return nil, fmt.Errorf("%s: no MS-DRG rows", name)
	}
	return t, nil
}

// TransferStatusesFile is the optional discharge-status table of a data directory; when
// present it replaces the built-in one (payment/transfer_statuses.json).
const TransferStatusesFile = TransferDir + "/transfer_statuses.json"

// loadTransfer reads the transfer-flag files and the optional status table.
func (c *Catalog) loadTransfer() error {
	files, err := c.glob(TransferDir, "*.csv")
	if err != nil {
		return err
	}
	if err := loadYearFiles(c, files, "transfer-flag file", ParseTransferFlags, func(t *TransferFlags) (int, string) { return t.FiscalYear, t.Source }, c.Transfer); err != nil {
		return err
	}
	p := filepath.Join(c.Dir, filepath.FromSlash(TransferStatusesFile))
	if b, err := os.ReadFile(p); err == nil {
		t, err := payment.ParseStatuses(p, b)
		if err != nil {
			return fmt.Errorf("load %w", err)
		}
		c.Statuses = t
		c.addFileInfo(p, int64(len(b)), sha256Hex(b))
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("load %s: %w", p, err)
	} else if c.Statuses, err = payment.DefaultStatuses(); err != nil {
		return err
	}
	if len(c.Transfer) == 0 && len(c.Weights) > 0 {
		c.warn("no Table 5 transfer flags (%s/*.csv): post-acute transfers are shown at full payment", TransferDir)
	}
	return nil
}

// TransferFor returns the transfer flags of fiscal year fy.
func (c *Catalog) TransferFor(fy int) (*TransferFlags, bool) {
	t, ok := c.Transfer[fy]
	return t, ok
}

// WeightYear returns the fiscal year whose Table 5 weighs a discharge of date d grouped with
// version v: the fiscal year of the discharge date, else (no date) the version's.
func WeightYear(d claim.Date, v Version) int {
	if !d.IsZero() {
		return FiscalYear(d)
	}
	return VersionFiscalYear(v)
}

// WeightsOf returns the Table 5 of fiscal year fy.
func (c *Catalog) WeightsOf(fy int) (*Weights, bool) {
	w, ok := c.Weights[fy]
	return w, ok
}

// WeightYears returns the fiscal years with Table 5 weights, ascending.
func (c *Catalog) WeightYears() []int { return slices.Sorted(maps.Keys(c.Weights)) }

// TransferStatuses returns the discharge-status table of transfers in use.
func (c *Catalog) TransferStatuses() *payment.StatusTable { return c.Statuses }
