/** One queue registry (STYLE habit 5): queue names here, job names as `SomethingJob.name`, data types beside each job. */
export enum QueueName {
  Normalize = 'normalize',
  Deliver = 'deliver',
}
