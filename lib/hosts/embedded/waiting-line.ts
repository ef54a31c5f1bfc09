/**
 * A FIFO line: push at the back, shift from the front in O(1). `Array.prototype.shift`
 * moves every element left, which made a line of 200,000 waiting instances quadratic.
 */
export class WaitingLine<T> {
  private items: (T | undefined)[] = []
  private head = 0

  get length(): number {
    return this.items.length - this.head
  }

  push(item: T): void {
    this.items.push(item)
  }

  shift(): T | undefined {
    if (this.head === this.items.length) return undefined
    const item = this.items[this.head]
    this.items[this.head++] = undefined
    if (this.head === this.items.length) {
      this.items.length = 0
      this.head = 0
    } else if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      // Drop the taken front once it is half the array: amortised O(1) per item.
      this.items = this.items.slice(this.head)
      this.head = 0
    }
    return item
  }
}
