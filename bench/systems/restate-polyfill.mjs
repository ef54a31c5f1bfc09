// @restatedev/restate-sdk 1.17 calls Promise.withResolvers, which Node 20 lacks (every invocation
// would fail with "Promise.withResolvers is not a function"). Loaded with --import before the SDK.
if (typeof Promise.withResolvers !== 'function') {
  Promise.withResolvers = function withResolvers() {
    let resolve
    let reject
    const promise = new this((res, rej) => {
      resolve = res
      reject = rej
    })
    return { promise, resolve, reject }
  }
}
