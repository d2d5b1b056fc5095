package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm/clause"
)

// Periodic jobs (query escalation, session purge) run once per period across every instance
// sharing the database: each instance's timer only proposes a run; the run happens on the
// instance whose claim row (job, period) is inserted first. The row's primary key makes the
// claim atomic on both databases (PostgreSQL makes a concurrent insert of the same key wait for
// the first transaction and then skip it).

// jobRunRow is the claim and outcome of one run of a periodic job.
type jobRunRow struct {
	Job        string    `gorm:"primaryKey;size:64"`
	Period     time.Time `gorm:"primaryKey"` // start of the period (UTC)
	Instance   string    `gorm:"size:200;not null"`
	StartedAt  time.Time `gorm:"not null"`
	FinishedAt *time.Time
	Result     string `gorm:"type:text;not null;default:''"`
}

// TableName names the table of job_runs rows.
func (jobRunRow) TableName() string { return "job_runs" }

// JobRun is one run of a periodic job.
type JobRun struct {
	Job        string     `json:"job"`
	Period     time.Time  `json:"period"`
	Instance   string     `json:"instance"`
	StartedAt  time.Time  `json:"started_at"`
	FinishedAt *time.Time `json:"finished_at,omitempty"`
	Result     string     `json:"result,omitempty"`
}

// ClaimJobRun claims the run of job for the period starting at period on behalf of instance.
// It returns true when this call claimed it, false when the run was already claimed (by any
// instance, whatever came of it). The claim is committed when ClaimJobRun returns.
func (s *Store) ClaimJobRun(ctx context.Context, job string, period time.Time, instance string) (bool, error) {
	if job == "" || len(job) > 64 {
		return false, fmt.Errorf("%w: job name must be 1 to 64 characters", ErrInvalid)
	}
	if len(instance) > 200 {
		instance = instance[:200]
	}
	claimed := false
	err := s.Tx(ctx, func(tx *Tx) error {
		row := jobRunRow{Job: job, Period: period.UTC().Truncate(time.Microsecond), Instance: instance, StartedAt: now()}
		res := tx.db.Clauses(clause.OnConflict{DoNothing: true}).Create(&row)
		if res.Error != nil {
			return fmt.Errorf("claim %s run: %w", job, res.Error)
		}
		claimed = res.RowsAffected == 1
		return nil
	})
	return claimed, err
}

// FinishJobRun records the outcome of a claimed run.
func (s *Store) FinishJobRun(ctx context.Context, job string, period time.Time, result string) error {
	return s.Tx(ctx, func(tx *Tx) error {
		t := now()
		res := tx.db.Model(&jobRunRow{}).Where("job = ? AND period = ?", job, period.UTC().Truncate(time.Microsecond)).
			Updates(map[string]any{"finished_at": &t, "result": result})
		if res.Error != nil {
			return fmt.Errorf("finish %s run: %w", job, res.Error)
		}
		if res.RowsAffected != 1 {
			return fmt.Errorf("finish %s run: %w", job, ErrNotFound)
		}
		return nil
	})
}

// JobRuns returns the runs of a job, oldest period first, at most limit (1–1000).
func (s *Store) JobRuns(ctx context.Context, job string, limit int) ([]JobRun, error) {
	var rows []jobRunRow
	if err := s.r.WithContext(ctx).Where("job = ?", job).Order("period").Limit(clampLimit(limit)).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list %s runs: %w", job, err)
	}
	out := make([]JobRun, len(rows))
	for i, r := range rows {
		out[i] = JobRun{Job: r.Job, Period: r.Period.UTC(), Instance: r.Instance, StartedAt: r.StartedAt.UTC(), Result: r.Result}
		if r.FinishedAt != nil {
			t := r.FinishedAt.UTC()
			out[i].FinishedAt = &t
		}
	}
	return out, nil
}
