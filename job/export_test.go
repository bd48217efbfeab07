package job

// Exported for the tests in package job_test (quotes_test.go), which
// word a run's problems with monitor: monitor imports job, so only an
// external test package can import both.
var NewTestJob = newTestJob

type FakeSender = fakeSender
