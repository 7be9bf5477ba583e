n2m4_store_count.v
n2m4_mem_weight.v
n2m4_nm_wstore.v
n2m4_nm_pe.v
n2m4_nm_array.v
n2m4_nm_top.v
