#!/usr/bin/env python3
"""fuzz/tools/make_policy_regressions.py <out dir> -- writes the hand-made regression inputs of the
policy target (fuzz/regressions/policy/): ONNX files, encoded here byte by byte with the protobuf
wire format, that each reach one bug found by reading runtime/onnx_model.cpp and
runtime/evaluator.cpp and confirmed by the fuzz target (see docs/RELIABILITY.md)."""
import struct, sys
def varint(v):
    out=b''
    while v>=0x80: out+=bytes([(v&0x7f)|0x80]); v>>=7
    return out+bytes([v])
def key(f,w): return varint((f<<3)|w)
def vi(f,v): return key(f,0)+varint(v)
def by(f,b): 
    if isinstance(b,str): b=b.encode()
    return key(f,2)+varint(len(b))+b
def f32(f,x): return key(f,5)+struct.pack('<f',x)
def tensor(name,dims,vals):
    t=b''.join(vi(1,d) for d in dims)+vi(2,1)+by(4,b''.join(struct.pack('<f',v) for v in vals))+by(8,name)
    return t
def value_info(name,width):
    dim_b=by(2,'batch'); dim_w=vi(1,width)
    shape=by(1,dim_b)+by(1,dim_w)
    tt=vi(1,1)+by(2,shape)
    return by(1,name)+by(2,by(1,tt))
def node(op,ins,out,attrs=()):
    return b''.join(by(1,i) for i in ins)+by(2,out)+by(4,op)+b''.join(by(5,a) for a in attrs)
def model(nodes,inits,in_w,out_w,opset=17,inname='obs',meta={}):
    g=b''.join(by(1,n) for n in nodes)+by(2,'g')+b''.join(by(5,t) for t in inits)+by(11,value_info(inname,in_w))+by(12,value_info('actions',out_w))
    m=vi(1,8)+by(7,g)+by(8,by(1,'')+vi(2,opset))
    for k,v in meta.items(): m+=by(14,by(1,k)+by(2,v))
    return m
out=sys.argv[1]
# 1: Constant whose 'value' attribute (type TENSOR) carries no tensor, used as an Add operand
attr=by(1,'value')+vi(20,4)
open(out+'/constant_attr_without_tensor.onnx','wb').write(model([node('Constant',[],'c',[attr]),node('Add',['obs','c'],'actions')],[],3,3))
# 2: Relu with no input
open(out+'/node_without_input.onnx','wb').write(model([node('Relu',[],'actions')],[],3,3))
# 3: Add whose first input is the empty name (an omitted optional input)
open(out+'/add_omitted_first_input.onnx','wb').write(model([node('Add',['','obs'],'actions')],[],3,3))
# 4: input width 2^31 (int overflow of the width)
open(out+'/input_width_2pow31.onnx','wb').write(model([node('Relu',['obs'],'actions')],[],2**31,2**31))
# 5: tensor dims whose product overflows int64 (2^62 * 4), no data
open(out+'/tensor_dims_int64_overflow.onnx','wb').write(model([node('Relu',['obs'],'actions')],[tensor('w',[2**62,4],[])],3,3))
# 6: Gemm weight of shape [3, 0]: a graph with a zero-width output
open(out+'/gemm_zero_width_output.onnx','wb').write(model([node('Gemm',['obs','w'],'actions')],[tensor('w',[3,0],[])],3,0))
# 7: Gemm weight dims [0, 2^32+3] with transB: 2^32+3 truncates to 3
tb=by(1,'transB')+vi(20,2)+vi(3,1)
open(out+'/gemm_weight_dim_truncated.onnx','wb').write(model([node('Gemm',['obs','w'],'actions',[tb])],[tensor('w',[0,2**32+3],[])],3,0))
