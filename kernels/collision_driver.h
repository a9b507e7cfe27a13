// kernels/collision_driver.h — collision detection for one world (mj_collision): candidate geom
// pairs, MuJoCo's filters, narrowphase, contact parameters; contacts land in Data's contact_*
// arrays in the order MuJoCo 4 produces them.
//
// Order (MuJoCo's): body pairs (b1 < b2) by signature b1 << 16 | b2; for each signature the
// explicit <pair>s with that signature first, then the body pair's geom pairs: one pair when
// both bodies have a single geom, else all geom pairs sorted by (geom of lower type, other geom)
// (MuJoCo's midphase sorts its contacts so), or in loop order when midphase is disabled.
//
// Filters (MuJoCo's): same weld body; both weld bodies without dofs; parent-child (weld bodies,
// not the world) unless filterparent is disabled; <exclude> signatures; contype/conaffinity;
// bounding spheres (rbound + margin + gap; planes by distance), first per body pair (all geoms
// of a body about its origin), then per geom pair. Explicit pairs skip all but the geom-level
// bounding-sphere test.
//
// Margin and gap (MuJoCo 4): a pair is detected within margin + gap; a contact with
// dist >= margin (includemargin) is kept but excluded from the solver (efc_address -1).
#pragma once

#include <cstdint>
#include <type_traits>

#include "kernels/collision_narrowphase.h"
#include "kernels/simd_avx512.h"
#include "sim/data.h"

namespace stampede::kern::constraint {

// contact parameters of a geom pair without an explicit <pair> (mj_contactParam)
template <class Real>
struct ContactParams {
  int condim;
  Real friction[5];
  Real solref[2];
  Real solreffriction[2];
  Real solimp[5];
};

template <class Real>
SP_HD inline void contact_params_geoms(ContactParams<Real>& p, const sim::ModelView<Real>& m,
                                       int w, int g1, int g2) {
  const Real* fr1 = m.geom_friction.at(w) + 3 * g1;
  const Real* fr2 = m.geom_friction.at(w) + 3 * g2;
  const Real* ref1 = m.geom_solref + 2 * g1;
  const Real* ref2 = m.geom_solref + 2 * g2;
  const Real* imp1 = m.geom_solimp + 5 * g1;
  const Real* imp2 = m.geom_solimp + 5 * g2;
  int pr1 = m.geom_priority[g1], pr2 = m.geom_priority[g2];
  Real fri[3];

  if (pr1 != pr2) {
    // the geom with the higher priority decides
    int g = pr1 > pr2 ? g1 : g2;
    const Real* fr = pr1 > pr2 ? fr1 : fr2;
    p.condim = m.geom_condim[g];
    for (int i = 0; i < 2; i++) p.solref[i] = m.geom_solref[2 * g + i];
    for (int i = 0; i < 5; i++) p.solimp[i] = m.geom_solimp[5 * g + i];
    for (int i = 0; i < 3; i++) fri[i] = fr[i];
  } else {
    // same priority: max condim, solmix-weighted solref/solimp, max friction
    p.condim = m.geom_condim[g1] > m.geom_condim[g2] ? m.geom_condim[g1] : m.geom_condim[g2];
    Real mix1 = m.geom_solmix[g1], mix2 = m.geom_solmix[g2];
    const Real minval = ColConst<Real>::minval;
    Real mix;
    if (mix1 >= minval && mix2 >= minval) {
      mix = mix1 / (mix1 + mix2);
    } else if (mix1 < minval && mix2 < minval) {
      mix = Real(0.5);
    } else if (mix1 < minval) {
      mix = 0;
    } else {
      mix = 1;
    }
    if (ref1[0] > 0 && ref2[0] > 0) {
      for (int i = 0; i < 2; i++) p.solref[i] = mix * ref1[i] + (1 - mix) * ref2[i];
    } else {
      // direct (negative) reference: element-wise minimum
      for (int i = 0; i < 2; i++) p.solref[i] = col_min(ref1[i], ref2[i]);
    }
    for (int i = 0; i < 5; i++) p.solimp[i] = mix * imp1[i] + (1 - mix) * imp2[i];
    for (int i = 0; i < 3; i++) fri[i] = col_max(fr1[i], fr2[i]);
  }
  p.friction[0] = fri[0];
  p.friction[1] = fri[0];
  p.friction[2] = fri[1];
  p.friction[3] = fri[2];
  p.friction[4] = fri[2];
  p.solreffriction[0] = 0;
  p.solreffriction[1] = 0;
}

// contact parameters of explicit pair `ipair`
template <class Real>
SP_HD inline void contact_params_pair(ContactParams<Real>& p, const sim::ModelView<Real>& m,
                                      int ipair) {
  p.condim = m.pair_dim[ipair];
  for (int i = 0; i < 2; i++) p.solref[i] = m.pair_solref[2 * ipair + i];
  for (int i = 0; i < 5; i++) p.solimp[i] = m.pair_solimp[5 * ipair + i];
  for (int i = 0; i < 5; i++) p.friction[i] = m.pair_friction[5 * ipair + i];
  const Real* srf = m.pair_solreffriction + 2 * ipair;
  bool has_srf = srf[0] != 0 || srf[1] != 0;
  p.solreffriction[0] = has_srf ? srf[0] : Real(0);
  p.solreffriction[1] = has_srf ? srf[1] : Real(0);
}

// margin and gap of a geom pair (ipair >= 0: explicit pair), with the override option
template <class Real>
SP_HD inline Real contact_margin(const sim::ModelView<Real>& m, int g1, int g2, int ipair) {
  if (m.opt.enableflags & sim::kEnblOverride) return m.opt.o_margin;
  return ipair >= 0 ? m.pair_margin[ipair] : m.geom_margin[g1] + m.geom_margin[g2];
}
template <class Real>
SP_HD inline Real contact_gap(const sim::ModelView<Real>& m, int g1, int g2, int ipair) {
  return ipair >= 0 ? m.pair_gap[ipair] : m.geom_gap[g1] + m.geom_gap[g2];
}

// true when the bounding spheres (or plane distance) rule the pair out (mj_filterSphere)
template <class Real>
SP_HD inline bool collision_sphere_filter(const sim::ModelView<Real>& m, const Real* geom_xpos,
                                          const Real* geom_xmat, int g1, int g2, Real bound) {
  Real rb1 = m.geom_rbound[g1], rb2 = m.geom_rbound[g2];
  if (rb1 > 0 && rb2 > 0) {
    Real dif[3];
    sub3(dif, geom_xpos + 3 * g1, geom_xpos + 3 * g2);
    Real r = rb1 + rb2 + bound;
    return dot3(dif, dif) > r * r;
  }
  for (int k = 0; k < 2; k++) {
    int gp = k == 0 ? g1 : g2, go = k == 0 ? g2 : g1;
    Real rbo = k == 0 ? rb2 : rb1;
    if (m.geom_type[gp] == kGeomPlane && rbo > 0) {
      const Real* mat = geom_xmat + 9 * gp;
      Real normal[3] = {mat[2], mat[5], mat[8]};
      Real dif[3];
      sub3(dif, geom_xpos + 3 * go, geom_xpos + 3 * gp);
      if (dot3(dif, normal) > bound + rbo) return true;
    }
  }
  return false;
}

// collide geoms g1, g2 (ipair: explicit pair or -1) and append the contacts of world w;
// filtered: the caller has applied collision_sphere_filter (it is symmetric in g1, g2)
template <class Real>
SP_HD SP_NOINLINE void collide_pair(const sim::ModelView<Real>& m, const sim::DataView<Real>& d,
                               int w, int g1, int g2, int ipair, bool filtered = false) {
  // geom 1 is the one of lower type (MuJoCo's pushGeomGeom)
  if (m.geom_type[g1] > m.geom_type[g2]) {
    int t = g1;
    g1 = g2;
    g2 = t;
  }
  const Real* geom_xpos = d.geom_xpos.at(w);
  const Real* geom_xmat = d.geom_xmat.at(w);
  Real margin = contact_margin(m, g1, g2, ipair);
  Real gap = contact_gap(m, g1, g2, ipair);
  if (!filtered && collision_sphere_filter(m, geom_xpos, geom_xmat, g1, g2, margin + gap)) {
    return;
  }

  ContactPoint<Real> con[kMaxContactsPerPair];
  int n = collide_geoms(con, m.geom_type[g1], m.geom_type[g2], margin + gap,
                        geom_xpos + 3 * g1, geom_xmat + 9 * g1, m.geom_size + 3 * g1,
                        geom_xpos + 3 * g2, geom_xmat + 9 * g2, m.geom_size + 3 * g2);
  if (n == 0) {
    return;
  }

  ContactParams<Real> p;
  if (ipair >= 0) {
    contact_params_pair(p, m, ipair);
  } else {
    contact_params_geoms(p, m, w, g1, g2);
  }
  bool override = m.opt.enableflags & sim::kEnblOverride;

  int* ncon = d.ncon.at(w);
  int capacity = d.s.contact_capacity;
  for (int k = 0; k < n; k++) {
    if (*ncon >= capacity) {
      d.contact_overflow.at(w)[0] += n - k;
      d.warning_flags.at(w)[0] |= kWarnContactOverflow;
      return;
    }
    int c = (*ncon)++;
    d.contact_dist.at(w)[c] = con[k].dist;
    copy3(d.contact_pos.at(w) + 3 * c, con[k].pos);
    contact_make_frame(d.contact_frame.at(w) + 9 * c, con[k].normal, con[k].tangent);
    d.contact_includemargin.at(w)[c] = margin;
    Real* friction = d.contact_friction.at(w) + 5 * c;
    Real* solref = d.contact_solref.at(w) + 2 * c;
    Real* solreffriction = d.contact_solreffriction.at(w) + 2 * c;
    Real* solimp = d.contact_solimp.at(w) + 5 * c;
    for (int i = 0; i < 5; i++) {
      friction[i] = col_max(ColConst<Real>::minmu, override ? m.opt.o_friction[i] : p.friction[i]);
      solimp[i] = override ? m.opt.o_solimp[i] : p.solimp[i];
    }
    for (int i = 0; i < 2; i++) {
      solref[i] = override ? m.opt.o_solref[i] : p.solref[i];
      solreffriction[i] = override ? m.opt.o_solref[i] : p.solreffriction[i];
    }
    d.contact_dim.at(w)[c] = p.condim;
    d.contact_geom.at(w)[2 * c] = g1;
    d.contact_geom.at(w)[2 * c + 1] = g2;
    d.contact_efc_address.at(w)[c] = -1;
    zero3(d.contact_force.at(w) + 3 * c);
  }
}

// bounding sphere of body b's geoms about the body origin: radius (1e10 with a plane) and the
// largest margin + gap of its geoms (Model: body_rbound, body_margin_gap); pruning body pairs
// with it skips only geom pairs that the geom-level bounding-sphere test would reject
template <class Real>
SP_HD SP_INLINE void body_bound(const sim::ModelView<Real>& m, int b, Real* radius, Real* reach) {
  Real g = m.body_margin_gap[b];
  if (m.opt.enableflags & sim::kEnblOverride) g = col_max(g, m.opt.o_margin);
  *radius = m.body_rbound[b];
  *reach = g;
}

// true when bodies b1, b2 are too far apart for any of their geoms to touch
template <class Real>
SP_HD inline bool collision_body_far(const sim::ModelView<Real>& m, const Real* xpos, int b1,
                                     Real r1, Real g1, int b2) {
  Real r2, g2;
  body_bound(m, b2, &r2, &g2);
  Real bound = r1 + r2 + g1 + g2;
  if (bound >= ColConst<Real>::maxval) return false;
  bound += Real(1e-6) * bound;  // slack over the rounding of the geom-level test
  Real dif[3];
  sub3(dif, xpos + 3 * b1, xpos + 3 * b2);
  return dot3(dif, dif) > bound * bound;
}

#if SP_HOST_AVX512
// collision_body_far for the 16 body pairs from k0 on (fewer at the end) in one pass: bit j
// set when pair k0 + j may touch (the scalar test's operations, lane by lane)
inline uint32_t collision_bodypairs_near16(const sim::ModelView<float>& m, const float* xpos, int k0) {
  using avx512::first_n;
  using avx512::hi16;
  using avx512::lo16;
  const int n = m.nbodypair - k0 < 16 ? m.nbodypair - k0 : 16;
  const __mmask16 valid = lo16(first_n(n));
  __m512i b1, b2;
  avx512::load_pairs16(m.bodypair_body + 2 * k0, n, &b1, &b2);
  const __m512 zero = _mm512_setzero_ps();
  __m512 r1 = _mm512_mask_i32gather_ps(zero, valid, b1, m.body_rbound, 4);
  __m512 r2 = _mm512_mask_i32gather_ps(zero, valid, b2, m.body_rbound, 4);
  __m512 g1 = _mm512_mask_i32gather_ps(zero, valid, b1, m.body_margin_gap, 4);
  __m512 g2 = _mm512_mask_i32gather_ps(zero, valid, b2, m.body_margin_gap, 4);
  if (m.opt.enableflags & sim::kEnblOverride) {
    g1 = _mm512_maskz_max_ps(0xFFFF, g1, _mm512_set1_ps(m.opt.o_margin));  // (maskz: see lane() in simd_avx512.h)
    g2 = _mm512_maskz_max_ps(0xFFFF, g2, _mm512_set1_ps(m.opt.o_margin));
  }
  __m512 bound = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(r1, r2), g1), g2);
  __mmask16 unbounded = _mm512_cmp_ps_mask(bound, _mm512_set1_ps(ColConst<float>::maxval), _CMP_GE_OQ);
  bound = _mm512_fmadd_ps(_mm512_set1_ps(1e-6f), bound, bound);
  const __m512i three = _mm512_set1_epi32(3);
  __m512i i1 = _mm512_mullo_epi32(b1, three), i2 = _mm512_mullo_epi32(b2, three);
  __m512 dist2 = zero;
  for (int c = 0; c < 3; ++c) {
    __m512 p1 = _mm512_mask_i32gather_ps(zero, valid, i1, xpos + c, 4);
    __m512 p2 = _mm512_mask_i32gather_ps(zero, valid, i2, xpos + c, 4);
    __m512 dif = _mm512_sub_ps(p1, p2);
    dist2 = _mm512_fmadd_ps(dif, dif, dist2);
  }
  __mmask16 far = _mm512_cmp_ps_mask(dist2, _mm512_mul_ps(bound, bound), _CMP_GT_OQ);
  return static_cast<uint32_t>(valid & ~(far & ~unbounded));
}
#endif

#if SP_HOST_AVX512
// collision_sphere_filter on the 16 geom pairs (geompair_geom) from j0 on (fewer at the end)
// in one pass: bit l set when pair j0 + l passes (the scalar test's operations, lane by lane)
inline uint32_t collision_geompairs_near16(const sim::ModelView<float>& m, const float* geom_xpos,
                                           const float* geom_xmat, int j0) {
  using avx512::first_n;
  using avx512::hi16;
  using avx512::lo16;
  const int n = m.ngeompair - j0 < 16 ? m.ngeompair - j0 : 16;
  const __mmask16 valid = lo16(first_n(n));
  __m512i g1, g2;
  avx512::load_pairs16(m.geompair_geom + 2 * j0, n, &g1, &g2);
  const __m512 zero = _mm512_setzero_ps();
  __m512 rb1 = _mm512_mask_i32gather_ps(zero, valid, g1, m.geom_rbound, 4);
  __m512 rb2 = _mm512_mask_i32gather_ps(zero, valid, g2, m.geom_rbound, 4);
  // margin + gap (contact_margin, contact_gap with ipair -1)
  __m512 bound;
  if (m.opt.enableflags & sim::kEnblOverride) {
    bound = _mm512_set1_ps(m.opt.o_margin);
  } else {
    bound = _mm512_add_ps(_mm512_mask_i32gather_ps(zero, valid, g1, m.geom_margin, 4),
                          _mm512_mask_i32gather_ps(zero, valid, g2, m.geom_margin, 4));
  }
  bound = _mm512_add_ps(bound, _mm512_add_ps(_mm512_mask_i32gather_ps(zero, valid, g1, m.geom_gap, 4),
                                             _mm512_mask_i32gather_ps(zero, valid, g2, m.geom_gap, 4)));
  const __m512i three = _mm512_set1_epi32(3), nine = _mm512_set1_epi32(9);
  const __m512i i1 = _mm512_mullo_epi32(g1, three), i2 = _mm512_mullo_epi32(g2, three);
  __m512 dif[3];
  for (int c = 0; c < 3; ++c) {
    dif[c] = _mm512_sub_ps(_mm512_mask_i32gather_ps(zero, valid, i1, geom_xpos + c, 4),
                           _mm512_mask_i32gather_ps(zero, valid, i2, geom_xpos + c, 4));
  }
  // both bounded: the spheres
  const __mmask16 pos1 = _mm512_cmp_ps_mask(rb1, zero, _CMP_GT_OQ), pos2 = _mm512_cmp_ps_mask(rb2, zero, _CMP_GT_OQ);
  __m512 r = _mm512_add_ps(_mm512_add_ps(rb1, rb2), bound);
  __m512 dist2 = _mm512_mul_ps(dif[0], dif[0]);
  dist2 = _mm512_fmadd_ps(dif[1], dif[1], dist2);
  dist2 = _mm512_fmadd_ps(dif[2], dif[2], dist2);
  __mmask16 far = pos1 & pos2 & _mm512_cmp_ps_mask(dist2, _mm512_mul_ps(r, r), _CMP_GT_OQ);
  // a plane and a bounded geom: the other geom's centre above the plane by more than its reach
  const __mmask16 planes = ~(pos1 & pos2) & valid;
  if (planes) {
    const __m512i plane = _mm512_set1_epi32(kGeomPlane);
    for (int k = 0; k < 2; ++k) {
      __m512i gpl = k == 0 ? g1 : g2;
      __m512 rbo = k == 0 ? rb2 : rb1;
      __mmask16 is = _mm512_mask_cmpeq_epi32_mask(planes & (k == 0 ? pos2 : pos1),
                                                   _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), planes, gpl, m.geom_type, 4),
                                                   plane);
      if (!is) continue;
      const __m512i im = _mm512_mullo_epi32(gpl, nine);
      // dif is g1 - g2; the scalar test takes (other - plane), exactly -dif when g1 is the plane
      __m512 rel[3];
      for (int c = 0; c < 3; ++c) rel[c] = k == 0 ? _mm512_sub_ps(zero, dif[c]) : dif[c];
      __m512 dot = _mm512_mul_ps(rel[0], _mm512_mask_i32gather_ps(zero, is, im, geom_xmat + 2, 4));
      dot = _mm512_fmadd_ps(rel[1], _mm512_mask_i32gather_ps(zero, is, im, geom_xmat + 5, 4), dot);
      dot = _mm512_fmadd_ps(rel[2], _mm512_mask_i32gather_ps(zero, is, im, geom_xmat + 8, 4), dot);
      far |= _mm512_mask_cmp_ps_mask(is, dot, _mm512_add_ps(bound, rbo), _CMP_GT_OQ);
    }
  }
  return static_cast<uint32_t>(valid & ~far);
}
#endif

// all contacts of world w: the model's static broadphase (body pairs that MuJoCo's filters
// let through whatever the state, with their geom pairs in midphase order: sim/compile.cpp,
// static_collision_pairs), then bounding spheres and narrowphase; explicit pairs in signature
// order among them, as MuJoCo's mj_collision runs them
template <class Real>
SP_HD SP_NOINLINE void collision_world(const sim::ModelView<Real>& m, const sim::DataView<Real>& d,
                                  int w) {
  d.ncon.at(w)[0] = 0;
  d.contact_overflow.at(w)[0] = 0;
  if ((m.opt.disableflags & (sim::kDsblConstraint | sim::kDsblContact)) || m.nbody < 2) {
    return;
  }

  const Real* xpos = d.xpos.at(w);
  int pairadr = 0;
  // the AVX-512 path's body-pair and geom-pair tests, 16 pairs at a time
  [[maybe_unused]] uint32_t near = 0, gnear = 0;
  [[maybe_unused]] int gblock = -1;
  for (int k = 0; k < m.nbodypair; k++) {
    const int b1 = m.bodypair_body[2 * k], b2 = m.bodypair_body[2 * k + 1];
    const int sig = (b1 << 16) + b2;
    // explicit pairs up to this signature come first
    for (; pairadr < m.npair && m.pair_signature[pairadr] <= sig; pairadr++) {
      collide_pair(m, d, w, m.pair_geom1[pairadr], m.pair_geom2[pairadr], pairadr);
    }
#if SP_HOST_AVX512
    if constexpr (std::is_same_v<Real, float>) {
      if ((k & 15) == 0) near = collision_bodypairs_near16(m, xpos, k);
      if (!((near >> (k & 15)) & 1u)) continue;
    } else
#endif
    {
      Real r1, g1;
      body_bound(m, b1, &r1, &g1);
      if (collision_body_far(m, xpos, b1, r1, g1, b2)) continue;
    }
#if SP_HOST_AVX512
    if constexpr (std::is_same_v<Real, float>) {
      for (int j = m.bodypair_geomadr[k]; j < m.bodypair_geomadr[k + 1]; j++) {
        if ((j >> 4) != gblock) {
          gblock = j >> 4;
          gnear = collision_geompairs_near16(m, d.geom_xpos.at(w), d.geom_xmat.at(w), j & ~15);
        }
        if ((gnear >> (j & 15)) & 1u) {
          collide_pair(m, d, w, m.geompair_geom[2 * j], m.geompair_geom[2 * j + 1], -1, true);
        }
      }
      continue;
    }
#endif
    for (int j = m.bodypair_geomadr[k]; j < m.bodypair_geomadr[k + 1]; j++) {
      collide_pair(m, d, w, m.geompair_geom[2 * j], m.geompair_geom[2 * j + 1], -1);
    }
  }
  // explicit pairs beyond the last body pair
  for (; pairadr < m.npair; pairadr++) {
    collide_pair(m, d, w, m.pair_geom1[pairadr], m.pair_geom2[pairadr], pairadr);
  }
}

}  // namespace stampede::kern::constraint
