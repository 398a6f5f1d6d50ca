package fakeseatable

import (
	"bytes"
	"fmt"
)

// Generate returns a current-generation detail=true workspace list with the
// starred and shared pseudo-workspaces, one personal workspace and
// workspaces-1 group workspaces, each holding basesPer bases. It is
// deterministic, so benchmarks and load runs see the same bytes every time.
// 20x10 is about 60 KB; 500x50 about 6 MB, the size of a large organisation.
func Generate(workspaces, basesPer int) []byte {
	var b bytes.Buffer
	b.Grow(workspaces * basesPer * 260)
	b.WriteString(`{"workspace_list":[`)
	b.WriteString(`{"id":"","name":"starred","type":"starred","table_list":[`)
	if workspaces > 0 && basesPer > 0 {
		writeBase(&b, 1000, 0, true)
	}
	b.WriteString(`]},{"id":"","name":"shared","type":"shared","shared_table_list":[],"shared_view_list":[],"share_folders":[]}`)
	for w := 0; w < workspaces; w++ {
		id := 1000 + w
		if w == 0 {
			fmt.Fprintf(&b, `,{"id":%d,"name":"personal","type":"personal","table_list":[`, id)
		} else {
			fmt.Fprintf(&b, `,{"id":%d,"name":"Group %d","type":"group","group_id":%d,"group_owner":"owner%d@auth.local","is_admin":%t,"table_list":[`,
				id, w, 5000+w, w, w%2 == 0)
		}
		for i := 0; i < basesPer; i++ {
			if i > 0 {
				b.WriteByte(',')
			}
			writeBase(&b, id, i, w == 0 && i == 0)
		}
		b.WriteString(`],"folders":[]`)
		if w > 0 {
			b.WriteString(`,"group_shared_dtables":[],"group_shared_views":[]`)
		}
		b.WriteByte('}')
	}
	b.WriteString(`]}`)
	return b.Bytes()
}

func writeBase(b *bytes.Buffer, ws, i int, starred bool) {
	n := ws*1000 + i
	fmt.Fprintf(b, `{"id":%d,"workspace_id":%d,"uuid":"%08x-%04x-4%03x-8%03x-%012x","name":"Base %d-%d",`+
		`"created_at":"2025-%02d-%02dT09:%02d:00+01:00","updated_at":"2026-%02d-%02dT16:%02d:30+01:00",`+
		`"color":"#E91E63","icon":"icon-dollar","in_storage":true,"starred":%t}`,
		n, ws, n, ws%0x10000, i%0x1000, ws%0x1000, n, ws, i,
		1+i%12, 1+i%28, i%60, 1+ws%12, 1+ws%28, ws%60, starred)
}
