// The messages that flow through the orders pipeline.
export interface OrderLine {
  sku: string
  qty: number
}

/** What a shop front posts. */
export interface PlacedOrder {
  orderId: string
  customer: string
  lines: OrderLine[]
}

/** An order with its lines merged by SKU and empty lines dropped. */
export interface Order {
  orderId: string
  customer: string
  lines: OrderLine[]
}

export interface Price {
  total: number
  /** SKUs with no price: the order cannot be accepted. */
  unknown: string[]
}

export interface Stock {
  reserved: boolean
  /** SKUs short of stock. */
  short: string[]
}

export interface Decision {
  orderId: string
  customer: string
  accepted: boolean
  total: number
  reason?: string
}
