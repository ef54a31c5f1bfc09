/** An S3 bucket name: 3–63 of a-z 0-9 . -, starting and ending with a letter or digit. */
export function isS3BucketName(value: unknown): value is string {
  return typeof value === 'string' && /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(value)
}
