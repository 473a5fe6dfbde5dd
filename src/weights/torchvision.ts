// torchvision's checkpoint names for a network laid out as one of its
// models, so that `compile --weights` and `train --init` read a torchvision
// state_dict saved as safetensors (`safetensors.torch.save_file(
// model.state_dict(), …)`) without renaming. A network mirrors torchvision's
// VisionTransformer when its layers with weights are, in order: the patch
// conv, the class token, the position embeddings, then per encoder layer a
// layer norm, attention, a layer norm and two dense layers, then a layer
// norm and the head (one dense layer, or two with torchvision's pre_logits):
// specs/vit.net's networks, or what `alexnetc import` makes of torchvision's
// export. Any other network has no torchvision names.
import { layers, type Network } from '../check/ir.js';

/** alexnetc weight name (`encoder1/residual1/attention1.in_proj_weight`) → torchvision's key (`encoder.layers.encoder_layer_0.self_attention.in_proj_weight`). */
export function torchvisionNames(network: Network): Map<string, string> | undefined {
  const weighted = [...layers(network.body)].filter((n) => n.weights.length > 0);
  const kinds = weighted.map((n) => n.layer.name);
  const prefixes: string[] = [];
  let i = 0;
  const take = (kind: string, prefix: string): boolean => {
    if (kinds[i] !== kind) return false;
    prefixes.push(prefix);
    i++;
    return true;
  };
  if (!take('conv', 'conv_proj') || !take('classtoken', '') || !take('posembed', 'encoder')) return undefined;
  for (let k = 0; kinds[i] === 'layernorm' && kinds[i + 1] === 'attention'; k++) {
    const p = `encoder.layers.encoder_layer_${k}`;
    if (!(take('layernorm', `${p}.ln_1`) && take('attention', `${p}.self_attention`) && take('layernorm', `${p}.ln_2`) && take('dense', `${p}.mlp.0`) && take('dense', `${p}.mlp.3`))) return undefined;
  }
  if (!take('layernorm', 'encoder.ln')) return undefined;
  if (kinds.length - i === 2 && !take('dense', 'heads.pre_logits')) return undefined;
  if (!take('dense', 'heads.head') || i !== kinds.length) return undefined;
  const names = new Map<string, string>();
  weighted.forEach((n, j) => {
    for (const w of n.weights) {
      const local = n.layer.name === 'posembed' ? 'pos_embedding' : w.name;
      names.set(`${n.path}.${w.name}`, prefixes[j] ? `${prefixes[j]}.${local}` : local);
    }
  });
  return names;
}
