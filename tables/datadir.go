package tables

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Paths of the data directory layout (data_sources.md, "Layout"), relative to the data dir.
const (
	GrouperFile = "msdrg/msdrg_combined.bin" // mandatory
	MCEFile     = "mce/mce.bin"
	Table5Dir   = "table5"
	TransferDir = "transfer" // Table 5 transfer flags (msdrg_fyYYYY_transfer_flags.csv), optional status table
	ICD10CMDir  = "icd10cm"
	ICD10PCSDir = "icd10pcs"
	POADir      = "poa"
	HCCDir      = "hcc"
)

// DataDirEnv is the environment variable naming the data directory.
const DataDirEnv = "DRG_DATA"

// defaultDataDirs are the implicit candidates, relative to the working directory, tried after
// the --data flag and $DRG_DATA.
var defaultDataDirs = []string{"data", filepath.Join("..", "shared", "cms")}

// HowToObtain tells a user where the grouper data comes from; it ends every DataDirError.
const HowToObtain = `download the MS-DRG Grouper software (Java) zip from the CMS "MS-DRG Classifications and Software" page and run "drg tables import <zip>" (it extracts runtime_buffers/msdrg_combined.bin from msdrg-binary-access-*.jar into ./data), or pass --data DIR / set $DRG_DATA to a directory holding ` + GrouperFile

// DataDirCandidate is one directory ResolveDataDir looked at, and what it found there.
type DataDirCandidate struct {
	Source string // "--data", "$DRG_DATA" or "default"
	Dir    string // as given ("" when the flag or variable is not set)
	Status string // "not set", "does not exist", "not a directory", "no msdrg/msdrg_combined.bin", …
}

// DataDirError is returned when no usable data directory is found. Its message is one line
// naming every directory looked in and how to obtain the files, fit for a CLI to print before
// exiting non-zero.
type DataDirError struct {
	Tried []DataDirCandidate
}

// Error returns the one-line message: the directories looked in and how to get the data.
func (e *DataDirError) Error() string {
	parts := make([]string, 0, len(e.Tried))
	for _, c := range e.Tried {
		if c.Dir == "" {
			parts = append(parts, fmt.Sprintf("%s (%s)", c.Source, c.Status))
			continue
		}
		name := c.Dir
		if c.Source != "default" {
			name = c.Source + " " + c.Dir
		}
		if abs, err := filepath.Abs(c.Dir); err == nil && abs != c.Dir {
			name += " = " + abs
		}
		parts = append(parts, fmt.Sprintf("%s (%s)", name, c.Status))
	}
	return "no MS-DRG grouper data (" + GrouperFile + ") found; looked in " +
		strings.Join(parts, ", ") + "; to fix: " + HowToObtain
}

// ResolveDataDir returns the data directory: the first that exists of flagDir (the --data
// flag), $DRG_DATA, ./data and ../shared/cms; it must hold msdrg/msdrg_combined.bin.
//
// An explicit choice is binding: when the flag (or, without flag, $DRG_DATA) is set, that
// directory is used or the call fails; the implicit candidates are never silently
// substituted for a mistyped path. Among the implicit candidates the first that exists wins,
// and it too must hold the grouper file. Every failure is a *DataDirError.
func ResolveDataDir(flagDir string) (string, error) {
	return resolveDataDir(flagDir, os.Getenv(DataDirEnv), defaultDataDirs)
}

func resolveDataDir(flagDir, envDir string, defaults []string) (string, error) {
	var tried []DataDirCandidate
	check := func(source, dir string) (string, bool) {
		c := DataDirCandidate{Source: source, Dir: dir}
		c.Status = dataDirStatus(dir)
		tried = append(tried, c)
		return dir, c.Status == ""
	}
	explicit := func(source, dir string) (string, error) {
		if d, ok := check(source, dir); ok {
			return d, nil
		}
		return "", &DataDirError{Tried: tried}
	}
	if flagDir != "" {
		return explicit("--data", flagDir)
	}
	tried = append(tried, DataDirCandidate{Source: "--data", Status: "not set"})
	if envDir != "" {
		return explicit("$"+DataDirEnv, envDir)
	}
	tried = append(tried, DataDirCandidate{Source: "$" + DataDirEnv, Status: "not set"})
	for _, d := range defaults {
		dir, ok := check("default", d)
		if ok {
			return dir, nil
		}
		if st := tried[len(tried)-1].Status; st != "does not exist" {
			// The first existing directory wins: one without grouper data is an error, not
			// a reason to fall back to the next candidate.
			return "", &DataDirError{Tried: tried}
		}
	}
	return "", &DataDirError{Tried: tried}
}

// dataDirStatus returns "" when dir holds the grouper file, else why it is not usable.
func dataDirStatus(dir string) string {
	st, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "does not exist"
	case err != nil:
		return err.Error()
	case !st.IsDir():
		return "not a directory"
	}
	st, err = os.Stat(filepath.Join(dir, GrouperFile))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "exists but has no " + GrouperFile
	case err != nil:
		return err.Error()
	case !st.Mode().IsRegular():
		return GrouperFile + " is not a regular file"
	}
	return ""
}
