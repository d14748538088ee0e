package sim

import "slices"

// designs lists every design in teaching order, family by family. A new
// family adds its own files (family_NAME.go, design_NAME.go, their tests
// and golden files) and one line here.
var designs = slices.Concat(
	register(paymentsFamily, dualWriteDesigns, outboxDesigns),
	register(retryFamily, retryDesigns),
	register(staleFamily, staleDesigns),
	register(confirmFamily, confirmDesigns),
	register(partitionFamily, partitionDesigns),
	register(reorderFamily, reorderDesigns),
	register(cacheFamily, cacheDesigns),
	register(pspFamily, pspDesigns),
	register(poisonFamily, poisonDesigns),
)

// register gives each of the family's designs what the family decides for
// all of them, and lists them in order.
func register(fam *family, lists ...[]*Design) []*Design {
	all := slices.Concat(lists...)
	for _, d := range all {
		d.family = fam
		d.Nodes, d.Metrics, d.Invariants, d.Databases = fam.nodes, fam.metrics, fam.invariants, fam.databases
		d.Situations = nil
		for _, k := range fam.situations {
			d.Situations = append(d.Situations, k.key)
		}
		d.Faults = nil
		for _, f := range fam.faults {
			if f != CrashRelay || d.Relay != nil { // a relay can crash only where there is one
				d.Faults = append(d.Faults, f)
			}
		}
	}
	return all
}

// Designs lists every design in teaching order.
func Designs() []Design {
	out := make([]Design, len(designs))
	for i, d := range designs {
		out[i] = *d
	}
	return out
}

// LookupDesign returns the design with this name.
func LookupDesign(name string) (Design, bool) {
	d, ok := lookupDesign(name)
	if !ok {
		return Design{}, false
	}
	return *d, true
}

// DesignNames lists every design's name in teaching order.
func DesignNames() []string {
	out := make([]string, len(designs))
	for i, d := range designs {
		out[i] = d.Name
	}
	return out
}

func lookupDesign(name string) (*Design, bool) {
	for _, d := range designs {
		if d.Name == name {
			return d, true
		}
	}
	return nil, false
}
