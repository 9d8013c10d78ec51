// One spelling per private address: the rule is the compute domain's; ARM's bodies name it from here.
export { canonicalPrivateAddress } from '../../core/compute/private-address.js';
