package store

// CronStore holds cron jobs and their runs.
type CronStore interface{}
