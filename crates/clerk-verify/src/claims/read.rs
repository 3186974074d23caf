//! Reading a payload's claims in one pass over its JSON: the claims Clerk's rules and the typed
//! [`super::Claims`] need, kept as the JSON said them (strings borrowed from the payload), and
//! every other member checked under the strict rules but not kept. No map is built.

use crate::error::Error;
use crate::token::{
    read_members, read_members_text, Elements, Fields, JsonError, Members, Scalar, Strict,
};
use serde::de::MapAccess;
use serde_json::Value;

/// The claims of one payload, as read (absent members are `None`).
#[derive(Default)]
pub(crate) struct Payload<'a> {
    pub(crate) sub: Option<Scalar<'a>>,
    pub(crate) sid: Option<Scalar<'a>>,
    pub(crate) iss: Option<Scalar<'a>>,
    pub(crate) azp: Option<Scalar<'a>>,
    pub(crate) exp: Option<Scalar<'a>>,
    pub(crate) nbf: Option<Scalar<'a>>,
    pub(crate) iat: Option<Scalar<'a>>,
    pub(crate) v: Option<Scalar<'a>>,
    pub(crate) sts: Option<Scalar<'a>>,
    pub(crate) fea: Option<Scalar<'a>>,
    pub(crate) pla: Option<Scalar<'a>>,
    pub(crate) aud: Option<Aud>,
    pub(crate) fva: Option<Fva>,
    /// Kept whole: it becomes `Actor::claims` (impersonation tokens only).
    pub(crate) act: Option<Value>,
    pub(crate) o: Option<OrgObject<'a>>,
    pub(crate) org_id: Option<Scalar<'a>>,
    pub(crate) org_role: Option<Scalar<'a>>,
    pub(crate) org_slug: Option<Scalar<'a>>,
    pub(crate) org_permissions: Option<StringList>,
}

/// `aud`, judged against the configured audience while it is read.
pub(crate) enum Aud {
    Null,
    Str { matched: bool },
    Array { matched: bool, non_string: bool },
    Other,
}

/// `fva`: an array's length and its first two elements as integers.
pub(crate) enum Fva {
    Null,
    Array {
        len: usize,
        first: Option<i64>,
        second: Option<i64>,
    },
    Other,
}

/// The v2 `o` claim: its members Clerk defines, or not an object at all.
pub(crate) enum OrgObject<'a> {
    Object {
        id: Option<Scalar<'a>>,
        rol: Option<Scalar<'a>>,
        slg: Option<Scalar<'a>>,
        per: Option<Scalar<'a>>,
        fpm: Option<Scalar<'a>>,
    },
    NotObject,
}

/// The v1 `org_permissions` claim.
pub(crate) enum StringList {
    Null,
    /// Every element was a string (copied: they are the caller's `Org::permissions`).
    Strings(Vec<String>),
    NotAllStrings,
    NotAList,
}

impl<'a> Payload<'a> {
    /// Reads `bytes` (strict JSON, one object); `aud` is compared with `audience` on the way.
    pub(crate) fn read(bytes: &'a [u8], audience: &[String]) -> Result<Payload<'a>, JsonError> {
        let mut reader = Reader {
            audience,
            out: Payload::default(),
        };
        read_members(bytes, &mut reader)?;
        Ok(reader.out)
    }

    /// [`Payload::read`] of text known to be UTF-8.
    pub(crate) fn read_text(text: &'a str, audience: &[String]) -> Result<Payload<'a>, JsonError> {
        let mut reader = Reader {
            audience,
            out: Payload::default(),
        };
        read_members_text(text, &mut reader)?;
        Ok(reader.out)
    }
}

struct Reader<'o, 'a> {
    audience: &'o [String],
    out: Payload<'a>,
}

/// The claims [`Reader`] keeps, by slot.
const SUB: usize = 0;
const SID: usize = 1;
const ISS: usize = 2;
const AZP: usize = 3;
const EXP: usize = 4;
const NBF: usize = 5;
const IAT: usize = 6;
const V: usize = 7;
const STS: usize = 8;
const FEA: usize = 9;
const PLA: usize = 10;
const AUD: usize = 11;
const FVA: usize = 12;
const ACT: usize = 13;
const O: usize = 14;
const ORG_ID: usize = 15;
const ORG_ROLE: usize = 16;
const ORG_SLUG: usize = 17;
const ORG_PERMISSIONS: usize = 18;

impl<'a> Members<'a> for Reader<'_, 'a> {
    fn slot(name: &str) -> Option<usize> {
        Some(match name {
            "sub" => SUB,
            "sid" => SID,
            "iss" => ISS,
            "azp" => AZP,
            "exp" => EXP,
            "nbf" => NBF,
            "iat" => IAT,
            "v" => V,
            "sts" => STS,
            "fea" => FEA,
            "pla" => PLA,
            "aud" => AUD,
            "fva" => FVA,
            "act" => ACT,
            "o" => O,
            "org_id" => ORG_ID,
            "org_role" => ORG_ROLE,
            "org_slug" => ORG_SLUG,
            "org_permissions" => ORG_PERMISSIONS,
            _ => return None,
        })
    }

    fn read<A: MapAccess<'a>>(
        &mut self,
        slot: usize,
        map: &mut A,
        depth: usize,
    ) -> Result<(), A::Error> {
        let out = &mut self.out;
        match slot {
            AUD => {
                let (mut matched, mut non_string) = (false, false);
                let audience = self.audience;
                let whole = map.next_value_seed(Elements {
                    depth,
                    each: |e: Scalar<'a>| match e {
                        Scalar::Str(s) => matched |= audience.iter().any(|a| *a == *s),
                        _ => non_string = true,
                    },
                })?;
                out.aud = Some(match whole {
                    None => Aud::Array {
                        matched,
                        non_string,
                    },
                    Some(Scalar::Null) => Aud::Null,
                    Some(Scalar::Str(s)) => Aud::Str {
                        matched: audience.iter().any(|a| *a == *s),
                    },
                    Some(_) => Aud::Other,
                });
            }
            FVA => {
                let (mut len, mut first, mut second) = (0, None, None);
                let whole = map.next_value_seed(Elements {
                    depth,
                    each: |e: Scalar<'a>| {
                        let int = match e {
                            Scalar::Num(n) => n.as_i64(),
                            _ => None,
                        };
                        match len {
                            0 => first = int,
                            1 => second = int,
                            _ => {}
                        }
                        len += 1;
                    },
                })?;
                out.fva = Some(match whole {
                    None => Fva::Array { len, first, second },
                    Some(Scalar::Null) => Fva::Null,
                    Some(_) => Fva::Other,
                });
            }
            ACT => out.act = Some(map.next_value_seed(Strict { depth })?),
            O => {
                let (mut id, mut rol, mut slg, mut per, mut fpm) = (None, None, None, None, None);
                let whole = map.next_value_seed(Fields {
                    depth,
                    each: |name: &str, value: Scalar<'a>| match name {
                        "id" => id = Some(value),
                        "rol" => rol = Some(value),
                        "slg" => slg = Some(value),
                        "per" => per = Some(value),
                        "fpm" => fpm = Some(value),
                        _ => {}
                    },
                })?;
                out.o = Some(match whole {
                    None => OrgObject::Object {
                        id,
                        rol,
                        slg,
                        per,
                        fpm,
                    },
                    Some(_) => OrgObject::NotObject,
                });
            }
            ORG_PERMISSIONS => {
                let (mut strings, mut all_strings) = (Vec::new(), true);
                let whole = map.next_value_seed(Elements {
                    depth,
                    each: |e: Scalar<'a>| match e {
                        Scalar::Str(s) if all_strings => strings.push(s.into_owned()),
                        _ => all_strings = false,
                    },
                })?;
                out.org_permissions = Some(match whole {
                    None if all_strings => StringList::Strings(strings),
                    None => StringList::NotAllStrings,
                    Some(Scalar::Null) => StringList::Null,
                    Some(_) => StringList::NotAList,
                });
            }
            slot => {
                let value = Scalar::read(map, depth)?;
                let field = match slot {
                    SUB => &mut out.sub,
                    SID => &mut out.sid,
                    ISS => &mut out.iss,
                    AZP => &mut out.azp,
                    EXP => &mut out.exp,
                    NBF => &mut out.nbf,
                    IAT => &mut out.iat,
                    V => &mut out.v,
                    STS => &mut out.sts,
                    FEA => &mut out.fea,
                    PLA => &mut out.pla,
                    ORG_ID => &mut out.org_id,
                    ORG_ROLE => &mut out.org_role,
                    _ => &mut out.org_slug,
                };
                *field = Some(value);
            }
        }
        Ok(())
    }
}

pub(super) fn number(claim: &Option<Scalar<'_>>, name: &'static str) -> Result<Option<f64>, Error> {
    match claim {
        None => Ok(None),
        Some(Scalar::Num(n)) => Ok(Some(n.as_f64())),
        Some(_) => Err(Error::TokenVerificationFailed(
            format!("the {name} claim is not a number").into(),
        )),
    }
}

/// A claim that must be a string or null when present: the string, if any.
pub(super) fn text<'p>(
    claim: &'p Option<Scalar<'_>>,
    name: &'static str,
) -> Result<Option<&'p str>, Error> {
    match claim {
        None | Some(Scalar::Null) => Ok(None),
        Some(Scalar::Str(s)) => Ok(Some(s)),
        Some(_) => Err(Error::TokenVerificationFailed(
            format!("the {name} claim is not a string").into(),
        )),
    }
}

pub(super) fn secs(v: f64) -> i64 {
    // `as` saturates, so absurd values cannot wrap.
    v.floor() as i64
}
