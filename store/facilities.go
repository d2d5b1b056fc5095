package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Facility is the settings of one facility (the encounters' facility code). Today: the time
// zone in which timestamps written without a zone (as lab and EHR feeds send them) are read.
type Facility struct {
	Code      string    `json:"code"`
	TimeZone  string    `json:"time_zone"` // IANA name, e.g. America/Chicago
	UpdatedAt time.Time `json:"updated_at"`
	UpdatedBy string    `json:"updated_by"`
	// Version is the row version (the ETag): every change raises it.
	Version int `json:"version"`
}

type facilityRow struct {
	Code      string    `gorm:"primaryKey;size:64"`
	TimeZone  string    `gorm:"size:64;not null"`
	UpdatedAt time.Time `gorm:"not null"`
	UpdatedBy string    `gorm:"size:200;not null;default:''"`
	Version   int       `gorm:"not null;default:1"`
}

// TableName names the table of facility settings.
func (facilityRow) TableName() string { return "facilities" }

func (r *facilityRow) facility() Facility {
	return Facility{Code: r.Code, TimeZone: r.TimeZone, UpdatedAt: r.UpdatedAt, UpdatedBy: r.UpdatedBy, Version: max(r.Version, 1)}
}

// migrateFacilities creates the table of facility settings.
func migrateFacilities(db *gorm.DB) error {
	if err := db.AutoMigrate(&facilityRow{}); err != nil {
		return fmt.Errorf("migrate facilities table: %w", err)
	}
	return nil
}

// ListFacilities returns the facilities with settings, by code.
func (s *Store) ListFacilities(ctx context.Context) ([]Facility, error) {
	var rows []facilityRow
	if err := s.r.WithContext(ctx).Order("code").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list facilities: %w", err)
	}
	out := make([]Facility, len(rows))
	for i := range rows {
		out[i] = rows[i].facility()
	}
	return out, nil
}

// GetFacility returns the settings of facility code; ErrNotFound when it has none.
func (s *Store) GetFacility(ctx context.Context, code string) (Facility, error) {
	var row facilityRow
	err := s.r.WithContext(ctx).Where("code = ?", code).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return Facility{}, fmt.Errorf("%w: facility %q has no settings", ErrNotFound, code)
	}
	if err != nil {
		return Facility{}, fmt.Errorf("get facility %q: %w", code, err)
	}
	return row.facility(), nil
}

// PutFacility creates or replaces the settings of facility f.Code and audits the change. The
// caller checks that the time zone exists; the store checks the sizes.
func (s *Store) PutFacility(ctx context.Context, actor Actor, f Facility) (Facility, error) {
	return s.PutFacilityIf(ctx, actor, f, -1)
}

// PutFacilityIf is PutFacility with a precondition: ifVersion 0 creates the settings only if
// the facility has none, a positive ifVersion replaces them only at that version (else
// ErrVersionMismatch); -1 checks nothing.
func (s *Store) PutFacilityIf(ctx context.Context, actor Actor, f Facility, ifVersion int) (Facility, error) {
	f.Code, f.TimeZone = strings.TrimSpace(f.Code), strings.TrimSpace(f.TimeZone)
	if f.Code == "" || len(f.Code) > 64 {
		return Facility{}, fmt.Errorf("%w: facility code must be 1 to 64 characters", ErrInvalid)
	}
	if f.TimeZone == "" || len(f.TimeZone) > 64 {
		return Facility{}, fmt.Errorf("%w: time zone must be 1 to 64 characters", ErrInvalid)
	}
	row := facilityRow{Code: f.Code, TimeZone: f.TimeZone, UpdatedAt: now(), UpdatedBy: actor.Name, Version: 1}
	err := s.Tx(ctx, func(tx *Tx) error {
		var before any // nil: a new facility
		var old facilityRow
		switch err := tx.forUpdate().Where("code = ?", f.Code).Take(&old).Error; {
		case err == nil:
			before = old.facility()
			row.Version = max(old.Version, 1) + 1
			if ifVersion == 0 {
				return fmt.Errorf("%w: facility %q has settings (version %d): send its ETag in If-Match to change them", ErrVersionMismatch, f.Code, max(old.Version, 1))
			}
			if ifVersion > 0 && max(old.Version, 1) != ifVersion {
				return fmt.Errorf("%w: facility %q is at version %d, not %d", ErrVersionMismatch, f.Code, max(old.Version, 1), ifVersion)
			}
		case !errors.Is(err, gorm.ErrRecordNotFound):
			return fmt.Errorf("read facility %q: %w", f.Code, err)
		case ifVersion > 0:
			return fmt.Errorf("%w: facility %q has no settings to change", ErrVersionMismatch, f.Code)
		}
		q := tx.db.Clauses(clause.OnConflict{UpdateAll: true})
		if before == nil {
			q = tx.db // a facility created concurrently is a conflict, not overwritten
		}
		if err := q.Create(&row).Error; err != nil {
			if errors.Is(err, gorm.ErrDuplicatedKey) {
				return fmt.Errorf("%w: facility %q was created concurrently: read it again", ErrVersionMismatch, f.Code)
			}
			return fmt.Errorf("save facility %q: %w", f.Code, err)
		}
		action := "update"
		if before == nil {
			action = "create"
		}
		return tx.Audit(actor, "facility", f.Code, action, before, row.facility())
	})
	if err != nil {
		return Facility{}, err
	}
	return row.facility(), nil
}
