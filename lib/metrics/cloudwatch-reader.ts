// What CloudWatchMetrics reads of a CloudWatch client, as types of troupe's own: the `CloudWatch`
// class of @aws-sdk/client-cloudwatch fits them, and troupe/aws's declarations name no type of
// that optional package, so an app that never reads CloudWatch type-checks without it.

/** One metric, as ListMetrics lists it. */
export interface CloudWatchMetric {
  Namespace?: string | undefined
  MetricName?: string | undefined
  Dimensions?: { Name: string | undefined; Value: string | undefined }[] | undefined
}

/** One query of GetMetricData: a metric's statistic over periods. */
export interface MetricQuery {
  Id: string | undefined
  MetricStat: { Metric: CloudWatchMetric; Period: number; Stat: string }
  ReturnData: boolean
}

/** One query's answer. */
export interface MetricResult {
  Id?: string | undefined
  StatusCode?: string | undefined
  Timestamps?: Date[] | undefined
  Values?: number[] | undefined
}

/** The two operations read, each a page at a time. */
export interface CloudWatchReader {
  listMetrics(input: { Namespace: string; Dimensions: { Name: string; Value: string }[]; NextToken?: string | undefined }): Promise<{ Metrics?: CloudWatchMetric[] | undefined; NextToken?: string | undefined }>
  getMetricData(input: { MetricDataQueries: MetricQuery[]; StartTime: Date; EndTime: Date; NextToken?: string | undefined }): Promise<{ MetricDataResults?: MetricResult[] | undefined; NextToken?: string | undefined }>
}
