// The references of lib/deploy/resources.ts as CDK tokens. A logical id there (`Table`,
// `HostFunction`) is a CfnResource of the construct here, whose logical id in the stack CDK
// chooses; the definitions are all written before any resource is made, so each reference is
// resolved lazily, at synthesis, into the same Ref, Fn::GetAtt and Fn::Sub the template has.
import { Fn, Lazy, type CfnResource, type IResolvable } from 'aws-cdk-lib/core'
import type { CfnReferences } from '../deploy/resources.js'

/** `${Id}` or `${Id.Attribute}` in a Fn::Sub; pseudo parameters (`${AWS::Region}`) do not match. */
const SUBSTITUTION = /\$\{([A-Za-z0-9]+)(\.[A-Za-z0-9]+)?\}/g

export function cdkReferences(resources: ReadonlyMap<string, CfnResource>): CfnReferences<IResolvable> {
  const of = (id: string): CfnResource => {
    const resource = resources.get(id)
    if (!resource) throw new Error(`troupe/cdk: a definition refers to ${id}, which the deployment does not have`)
    return resource
  }
  return {
    ref: (id) => Lazy.any({ produce: () => of(id).ref }),
    arn: (id) => Lazy.any({ produce: () => of(id).getAtt('Arn') }),
    sub: (text) =>
      Lazy.any({
        produce: () => Fn.sub(text.replace(SUBSTITUTION, (whole, id: string, attribute = '') => (resources.has(id) ? `\${${of(id).logicalId}${attribute}}` : whole))),
      }),
  }
}
