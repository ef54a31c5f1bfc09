// Cost in dollars: list prices (dated, overridable), the units AWS bills requests by, and what
// troupe's counted requests cost per million messages, apart from a month's standing costs.
export { PRICES, PRICE_NAMES, DEFAULT_PRICE_REGION, type Price, type PriceBook, type PriceName, type RegionPrices } from './prices.js'
export { choosePrices, layPriceFile, parsePriceOverride, priceRegions, type PriceChoice, type PricesInUse } from './price-book.js'
export { billedUnits, unitKind, PUT_PAYLOAD_UNIT_BYTES, READ_UNIT_BYTES, WRITE_UNIT_BYTES } from './billed-units.js'
export { itemBytes } from './item-size.js'
export { usageOfRequests, lambdaUsage, addUsage, NO_USAGE, DEFAULT_LAMBDA, ASSUMED_MS_PER_INVOCATION, type Usage, type LambdaModel, type RequestUsage } from './usage.js'
export { priceUsage, perMillion, fixedMonthly, total, HOURS_PER_MONTH, TICKS_PER_MONTH, type CostLine, type Service, type Standing } from './bill.js'
export { messageCost, type MessageCost, type MessageCostOptions } from './message-cost.js'
